"""SPAE: images as pyramids of real words from a frozen LLM's vocabulary, and back

`spae` is an open, working implementation of **SPAE** (Yu et al., *SPAE: Semantic Pyramid AutoEncoder for
Multimodal Generation with Frozen LLMs*, NeurIPS 2023, [arXiv 2306.17842](https://arxiv.org/abs/2306.17842)),
whose code was never released. An encoder maps an image to a latent grid; a **frozen, lexical codebook** — the
input embeddings of real words in a frozen LLM's vocabulary — quantises it into a **pyramid of words**: a few
semantic words on top, many appearance words below, combined by **streaming average quantisation** so every
code stays at word scale. A decoder turns any prefix of the pyramid back into pixels. Because the tokens are
ordinary words, the paper lets a frozen LLM read images in a prompt and write them, with no parameter of the LLM
ever updated.

The project is a literate nbdev 3 project: the notebooks in `nbs/` *are* the source, the tests and the
documentation, in narrative order (codebook → quantiser → encoder/decoder → semantics and losses → training →
metrics → explorer → benchmarks → command line). Everything runs offline on a laptop CPU by default (SmolLM2-135M's
vocabulary, Fashion-MNIST at 32 px) and scales to the paper's setup on GPUs by editing `settings.ini`.

Modules:

- `spae.cli`: The `spae` command: `spae demo`, `encode`, `decode`, `train`, `eval`, `ablate`, `bench`, `data` — and errors a user can act on.
- `spae.data`: Fashion-MNIST from the Debian package's IDX files, any folder of images, mini-ImageNet, the scikit-image photos, checks on images before they reach a tokenizer, and the dataset the settings name.
- `spae.explorer`: See an image as words: the pyramid laid out on its token grid, layer by layer, the picture each prefix decodes to, and what swapping one word does."""

__version__ = "0.0.1"
