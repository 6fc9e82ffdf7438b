"""Data that ships inside packages we already depend on: nothing downloads.

- ``load_digits``: scikit-learn's 1797 handwritten 8x8 digits, split and normalised.
- ``sample_image``: matplotlib's and scikit-learn's bundled photos as float arrays.
"""

import numpy as np

DIGITS_SPLIT = {"train": 1257, "val": 270, "test": 270}
SPLIT_SEED = 0

# Where each photo lives: (package, file). All are RGB JPEGs.
SAMPLE_IMAGES = {
    "grace_hopper": ("matplotlib", "grace_hopper.jpg"),
    "china": ("sklearn", "china.jpg"),
    "flower": ("sklearn", "flower.jpg"),
}
# ITU-R BT.601 luma weights: how bright each primary looks to the eye.
LUMA = np.array([0.299, 0.587, 0.114])


def load_digits(dtype=np.float64):
    """scikit-learn's bundled 8x8 digits as images, with a fixed split.

    The 1797 images are shuffled once with a fixed seed and split into
    1257 train / 270 val / 270 test, the same split on every machine. Pixels
    (0 to 16) are scaled to [0, 1], then the training set's per-pixel mean is
    subtracted from every split and all are divided by the training set's
    standard deviation, so the inputs are centred with unit scale.

    Returns a dict with
    - X_train, X_val, X_test: arrays of shape (N, 1, 8, 8) of ``dtype``;
    - y_train, y_val, y_test: int64 labels 0-9 of shape (N,);
    - mean_image: the (1, 8, 8) mean that was subtracted, std: the scalar divisor
      (to turn an input back into a picture: X * std + mean_image).
    """
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    images = digits.images.astype(np.float64)[:, None] / 16.0
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    ends = np.cumsum(list(DIGITS_SPLIT.values()))
    parts = dict(zip(DIGITS_SPLIT, np.split(order, ends[:-1])))

    mean_image = images[parts["train"]].mean(axis=0)
    std = float((images[parts["train"]] - mean_image).std())
    data = {"mean_image": mean_image.astype(dtype), "std": std}
    for name, index in parts.items():
        data[f"X_{name}"] = ((images[index] - mean_image) / std).astype(dtype)
        data[f"y_{name}"] = labels[index]
    return data


def _read_photo(name):
    if name not in SAMPLE_IMAGES:
        raise ValueError(f"name must be one of {sorted(SAMPLE_IMAGES)}, got {name!r}")
    package, filename = SAMPLE_IMAGES[name]
    if package == "sklearn":
        from sklearn.datasets import load_sample_image

        return load_sample_image(filename)
    import matplotlib.cbook
    import matplotlib.image

    with matplotlib.cbook.get_sample_data(filename) as file:
        return matplotlib.image.imread(file, format="jpg")


def _area_weights(n_in, n_out):
    """(n_out, n_in) matrix that resamples a line of n_in pixels to n_out.

    Each output pixel averages the input pixels it covers, weighted by overlap
    (area resampling), which shrinks without the aliasing of point sampling.
    """
    edges = np.linspace(0.0, n_in, n_out + 1)
    left, right = edges[:-1, None], edges[1:, None]
    pixel = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(right, pixel + 1) - np.maximum(left, pixel), 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def resize(image, height, width):
    """Resize a (C, H, W) image to (C, height, width) by area resampling."""
    rows = _area_weights(image.shape[1], height)
    cols = _area_weights(image.shape[2], width)
    return np.einsum("hH,cHW,wW->chw", rows, image, cols, optimize=True)


def _target_size(size, shape):
    h, w = shape
    if size is None:
        return h, w
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        if size <= 0:
            raise ValueError(f"size must be positive, got {size}")
        return int(size), max(1, round(w * size / h))
    if isinstance(size, (tuple, list)) and len(size) == 2 and all(
        isinstance(s, (int, np.integer)) and s > 0 for s in size
    ):
        return int(size[0]), int(size[1])
    raise ValueError(f"size must be None, a positive int (the height) or a pair (height, width), got {size!r}")


def sample_image(name, size=None, gray=False, dtype=np.float64):
    """A bundled photo as a float array in [0, 1], laid out like one conv input.

    Inputs:
    - name: "grace_hopper" (matplotlib, 600x512), "china" or "flower"
      (scikit-learn, 427x640).
    - size: None keeps the original size; an int sets the height and keeps the
      aspect ratio; a pair (height, width) sets both.
    - gray: return one luminance channel instead of three colour channels.
    - dtype: float dtype of the result.

    Returns an array of shape (C, H, W) with C = 3 (RGB) or 1 (gray). Add a
    batch axis with ``image[None]`` to feed it to a conv layer.
    """
    pixels = np.asarray(_read_photo(name), dtype=np.float64)
    if pixels.max() > 1.0:
        pixels = pixels / 255.0
    image = pixels[..., :3].transpose(2, 0, 1)
    if gray:
        image = np.tensordot(LUMA, image, axes=1)[None]
    height, width = _target_size(size, image.shape[1:])
    if (height, width) != image.shape[1:]:
        image = resize(image, height, width)
    return np.clip(image, 0.0, 1.0).astype(dtype)
