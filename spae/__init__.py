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

- `spae.ablation`: Which of SPAE's ingredients matter: every variant trained with one budget and data order, compared by PSNR per prefix and the relevance of each layer's words (`spae ablate`), and the probes that found where the pyramid loses reconstruction.
- `spae.bench`: How fast and how large: nearest-word search against the GEMM limit and against peers, tokenizer and training throughput, and a GPU training-step script.
- `spae.checkpoint`: Training checkpoints that lose nothing: atomic folders of safetensors and JSON (weights, optimiser, RNG states), and the model a saved run describes.
- `spae.cli`: The `spae` command: one parser per config dataclass, one runner, and errors a user can act on.
- `spae.core`: Run settings, seeding, devices, caches and clear errors for missing assets.
- `spae.data`: Fashion-MNIST from the Debian package's IDX files, any folder of images, mini-ImageNet, the scikit-image photos, checks on images before they reach a tokenizer, and the dataset the settings name.
- `spae.explorer`: See an image as words: the pyramid laid out on its token grid, layer by layer, the picture each prefix decodes to, and what swapping one word does.
- `spae.fewshot`: A frozen LLM that never saw an image classifies images from SPAE words, in context: the Frozen / LQAE / SPAE protocol, contextual calibration, the comparison table, and two LLMs reading each other's words.
- `spae.generation`: Progressive in-context denoising with a frozen LLM writing SPAE words, coarse to fine: denoising, inpainting, outpainting, class-conditional generation and image → text, scored with a Fashion-MNIST classifier.
- `spae.llm`: One small interface to a frozen LLM — score continuations, generate from a restricted set of tokens, reuse a shared prompt prefix — with a local Hugging Face backend and an OpenAI-compatible HTTP backend.
- `spae.losses`: Semantic, reconstruction, commitment, perceptual and adversarial (with LeCam) losses, in one `SPAELoss`.
- `spae.metrics`: How good is a tokenizer? PSNR and SSIM per pyramid prefix, perceptual and Fréchet distances, codebook usage, and how relevant each layer's words are to the image.
- `spae.model`: The SPAE tokenizer: a convolutional encoder into the LLM's embedding space, the word pyramid, and a decoder that renders any prefix of it.
- `spae.own_images`: Train and evaluate an SPAE tokenizer on a folder of your own photos — one command each — shown end to end on a small folder made from the scikit-image photos.
- `spae.quantizer`: The semantic pyramid: dilated subsampling, streaming average quantisation (SAQ) onto a frozen word codebook, and fast nearest-word search.
- `spae.semantics`: Scorers that say which words of the vocabulary fit an image, a cached word-relevance table, and top-K target words.
- `spae.train`: One training loop for the CPU demo and for many GPUs: AdamW, warm-up + cosine, accumulation, AMP, EMA, DDP, atomic checkpoints, exact resume, logs and sample grids.
- `spae.video`: Video SPAE: Moving Fashion-MNIST clips → a space-time pyramid of words (causal 3-D tokenizer) → clips, and a frozen LLM that continues a clip in context.
- `spae.vocab`: The frozen LLM and the lexical codebook: which of its tokens are words, and where their embeddings come from."""

__version__ = "0.0.1"
