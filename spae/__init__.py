"""SPAE: images as pyramids of real words from a frozen LLM's vocabulary, and back

Modules:

- `spae.data`: Fashion-MNIST from the Debian package's IDX files, any folder of images, mini-ImageNet, the scikit-image photos, a seeded train/val split and a DataLoader that works under DDP."""

__version__ = "0.0.1"
