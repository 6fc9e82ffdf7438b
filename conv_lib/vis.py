"""Pictures of filters, images and feature maps, every one labelled."""

import matplotlib.pyplot as plt
import numpy as np


def _as_tiles(images):
    """(N, C, H, W) with C in {1, 3} -> (N, H, W, C) floats."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(
            f"images must have shape (N, C, H, W) with C = 1 or 3, got {images.shape}"
        )
    return images.transpose(0, 2, 3, 1)


def visualize_grid(images, padding=1, normalize="each"):
    """Tile N small images into one picture, e.g. a conv layer's filters.

    Inputs:
    - images: (N, C, H, W) with C = 1 (gray) or 3 (RGB); filters W1 of shape
      (F, C, k, k) with C = 1 or 3 fit directly.
    - padding: pixels of background between tiles.
    - normalize: "each" scales every tile to [0, 1] on its own (shows each
      filter's pattern), "all" scales all tiles together (compares strengths).

    Returns a (rows * (H + padding) - padding, cols * (W + padding) - padding, C)
    array in [0, 1], with the tiles in a near-square grid, row by row.
    """
    tiles = _as_tiles(images)
    if normalize not in ("each", "all"):
        raise ValueError(f"normalize must be 'each' or 'all', got {normalize!r}")
    n, h, w, c = tiles.shape
    axes = (1, 2, 3) if normalize == "each" else (0, 1, 2, 3)
    low = tiles.min(axis=axes, keepdims=True)
    span = tiles.max(axis=axes, keepdims=True) - low
    tiles = (tiles - low) / np.where(span > 0, span, 1.0)

    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.full((rows * (h + padding) - padding, cols * (w + padding) - padding, c), 1.0)
    for i, tile in enumerate(tiles):
        r, col = divmod(i, cols)
        top, left = r * (h + padding), col * (w + padding)
        grid[top:top + h, left:left + w] = tile
    return grid


def show_filters(w, title="First-layer filters", ax=None):
    """Draw conv weights (F, C, k, k), C = 1 or 3, as a labelled grid; returns the axes."""
    ax = ax or plt.subplots(figsize=(4, 4))[1]
    grid = visualize_grid(w)
    ax.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid,
              cmap="gray", interpolation="nearest")
    ax.set_title(f"{title}\n({w.shape[0]} filters of {w.shape[2]}x{w.shape[3]}, each scaled to its range)")
    ax.axis("off")
    return ax


def show_images_side_by_side(images, titles, cmap="gray", suptitle=None, size=3.0):
    """Draw images in one row, each with its title; returns the figure.

    images: arrays of shape (H, W), (1, H, W) or (3, H, W); one-channel
    images use ``cmap`` and get a colour bar, so their values can be read.
    """
    if len(images) != len(titles):
        raise ValueError(f"need one title per image: got {len(images)} images, {len(titles)} titles")
    fig, axes = plt.subplots(1, len(images), figsize=(size * len(images), size),
                             squeeze=False, layout="constrained")
    for ax, image, title in zip(axes[0], images, titles):
        image = np.asarray(image)
        if image.ndim == 3 and image.shape[0] == 3:
            ax.imshow(np.clip(image.transpose(1, 2, 0), 0, 1))
        else:
            shown = ax.imshow(image.reshape(image.shape[-2:]), cmap=cmap)
            fig.colorbar(shown, ax=ax, shrink=0.8)
        ax.set_title(title)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def show_feature_maps(maps, title="Feature maps", ncols=8, size=1.4, cmap="viridis"):
    """Draw a (C, H, W) stack of feature maps, one labelled panel per channel;
    returns the figure. All panels share one colour scale, so they compare."""
    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"maps must have shape (C, H, W), got {maps.shape}")
    c = maps.shape[0]
    ncols = min(ncols, c)
    nrows = int(np.ceil(c / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.6),
                             squeeze=False, layout="constrained")
    low, high = float(maps.min()), float(maps.max())
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < c:
            shown = ax.imshow(maps[i], cmap=cmap, vmin=low, vmax=high, interpolation="nearest")
            ax.set_title(f"channel {i}", fontsize=8)
    fig.colorbar(shown, ax=axes, shrink=0.8, label="activation")
    fig.suptitle(title)
    return fig
