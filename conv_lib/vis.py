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


def _dilated_span(kernel_size, dilation):
    return dilation * (kernel_size - 1) + 1


def show_dilated_taps(kernel_size=3, dilations=(1, 2, 4), size=3.0):
    """Draw the pixels a kernel_size x kernel_size kernel reads at each dilation, one
    labelled panel per dilation on grids of the same size; returns the figure.

    Tap (p, q) sits at row p * dilation, column q * dilation of the window; the dashed
    frame is the span dilation * (kernel_size - 1) + 1 the kernel covers.
    """
    from matplotlib.patches import Rectangle

    if kernel_size < 1 or not dilations or min(dilations) < 1:
        raise ValueError(f"need kernel_size >= 1 and dilations >= 1, got kernel_size "
                         f"{kernel_size}, dilations {dilations}")
    grid = max(_dilated_span(kernel_size, d) for d in dilations)
    fig, axes = plt.subplots(1, len(dilations), figsize=(size * len(dilations), size + 0.6),
                             squeeze=False, layout="constrained")
    for ax, d in zip(axes[0], dilations):
        for r in range(grid):
            for c in range(grid):
                ax.add_patch(Rectangle((c, r), 1, 1, facecolor="white", edgecolor="lightgray"))
        for p in range(kernel_size):
            for q in range(kernel_size):
                ax.add_patch(Rectangle((q * d, p * d), 1, 1, facecolor="tab:blue", alpha=0.7))
                ax.text(q * d + 0.5, p * d + 0.5, f"{p},{q}", ha="center", va="center",
                        color="white", fontsize=7 if grid > 7 else 9)
        span = _dilated_span(kernel_size, d)
        ax.add_patch(Rectangle((0, 0), span, span, fill=False, edgecolor="tab:red", lw=2,
                               linestyle="--"))
        ax.set_xlim(-0.1, grid + 0.1)
        ax.set_ylim(grid + 0.1, -0.1)
        ax.set_aspect("equal")
        ax.set_xticks(np.arange(grid) + 0.5, labels=range(grid), fontsize=7)
        ax.set_yticks(np.arange(grid) + 0.5, labels=range(grid), fontsize=7)
        ax.set_xlabel("column offset in the window")
        ax.set_ylabel("row offset in the window")
        ax.set_title(f"dilation {d}: {kernel_size * kernel_size} taps span {span}x{span}")
    fig.suptitle(f"The pixels a {kernel_size}x{kernel_size} kernel reads (blue, labelled with "
                 f"its tap p,q); red dashes: the span d(k-1)+1 it covers")
    return fig


def receptive_field(kernel_size, dilations):
    """The inputs one output of stacked stride-1 layers sees, along one axis:
    1 + sum over the layers of dilation * (kernel_size - 1)."""
    return 1 + sum(d * (kernel_size - 1) for d in dilations)


def show_receptive_field(kernel_size=3, stacks=((1, 1, 1), (1, 2, 4)), size=5.5):
    """Draw, for each stack of stride-1 layers (a tuple of dilations, first layer first),
    which inputs one output depends on, along one axis; returns the figure.

    Each panel has the input at the bottom and one row per layer; the lines join every
    value the top output depends on to the kernel_size values it reads below.
    """
    if kernel_size < 2 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd and >= 3 (centred taps), got {kernel_size}")
    half = max(receptive_field(kernel_size, s) for s in stacks) // 2 + 1
    positions = np.arange(-half, half + 1)
    fig, axes = plt.subplots(1, len(stacks), figsize=(size * len(stacks), 3.2),
                             squeeze=False, layout="constrained")
    offsets = np.arange(kernel_size) - kernel_size // 2
    for ax, dilations in zip(axes[0], stacks):
        layers = len(dilations)
        used = [set() for _ in range(layers + 1)]
        used[layers] = {0}  # the output at the centre of the top layer
        for level in range(layers, 0, -1):
            d = dilations[level - 1]
            for position in used[level]:
                for tap in offsets * d:
                    used[level - 1].add(position + tap)
                    ax.plot([position, position + tap], [level, level - 1], color="tab:blue",
                            lw=1, alpha=0.6)
        for level in range(layers + 1):
            picked = [p in used[level] for p in positions]
            ax.scatter(positions, np.full(len(positions), level), s=22, zorder=3,
                       c=["tab:blue" if p else "lightgray" for p in picked])
        field = receptive_field(kernel_size, dilations)
        ax.set_yticks(range(layers + 1), labels=["input"] + [
            f"layer {i + 1} (dilation {d})" for i, d in enumerate(dilations)])
        ax.set_xlabel("position along one axis")
        ax.set_title(f"dilations {', '.join(map(str, dilations))}: {field} inputs")
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    fig.suptitle(f"Receptive field of {len(stacks[0])} stacked {kernel_size}-tap layers "
                 f"(stride 1): the blue values feed the top output")
    return fig
