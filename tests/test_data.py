import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from conv_lib.data import load_digits, resize, sample_image  # noqa: E402
from conv_lib.vis import (  # noqa: E402
    show_feature_maps,
    show_filters,
    show_images_side_by_side,
    visualize_grid,
)


def test_digits_split_is_fixed_disjoint_and_normalised():
    data = load_digits()
    assert data["X_train"].shape == (1257, 1, 8, 8)
    assert data["X_val"].shape == data["X_test"].shape == (270, 1, 8, 8)
    assert data["X_train"].dtype == np.float64 and data["y_train"].dtype == np.int64
    assert abs(data["X_train"].mean()) < 1e-12 and data["X_train"].std() == pytest.approx(1.0)
    rows = [x.reshape(len(x), -1) for x in (data["X_train"], data["X_val"], data["X_test"])]
    # 1797 distinct digits may repeat pixel-for-pixel, so compare the split by count, then order.
    assert sum(len(r) for r in rows) == 1797
    again = load_digits(dtype=np.float32)
    np.testing.assert_array_equal(again["y_test"], data["y_test"])
    assert again["X_test"].dtype == np.float32
    restored = data["X_train"] * data["std"] + data["mean_image"]
    assert restored.min() == pytest.approx(0.0, abs=1e-12) and restored.max() == pytest.approx(1.0)


@pytest.mark.parametrize(("name", "shape"), [("grace_hopper", (600, 512)), ("china", (427, 640)),
                                             ("flower", (427, 640))])
def test_sample_images_are_channel_first_floats_in_unit_range(name, shape):
    image = sample_image(name)
    assert image.shape == (3, *shape) and image.dtype == np.float64
    assert 0.0 <= image.min() and image.max() <= 1.0 and image.max() > 0.9


def test_sample_image_size_and_gray():
    assert sample_image("grace_hopper", size=60).shape == (3, 60, 51)
    gray = sample_image("china", size=(40, 30), gray=True, dtype=np.float32)
    assert gray.shape == (1, 40, 30) and gray.dtype == np.float32
    with pytest.raises(ValueError, match="name must be one of"):
        sample_image("lena")
    with pytest.raises(ValueError, match="size must be"):
        sample_image("china", size=(0, 3))


def test_area_resize_keeps_the_mean_and_constant_images():
    image = np.random.default_rng(0).random((2, 12, 9))
    small = resize(image, 4, 3)
    np.testing.assert_allclose(small.mean(axis=(1, 2)), image.mean(axis=(1, 2)))
    np.testing.assert_allclose(small[:, 0, 0], image[:, :3, :3].mean(axis=(1, 2)))
    np.testing.assert_allclose(resize(np.full((1, 5, 7), 0.25), 3, 11), 0.25)


def test_visualize_grid_tiles_and_scales_each_image():
    images = np.random.default_rng(0).standard_normal((5, 3, 4, 4))
    grid = visualize_grid(images, padding=1)
    assert grid.shape == (9, 14, 3)  # ceil(sqrt(5)) = 3 columns, 2 rows, tiles of 4 + 1 padding
    assert grid.min() == 0.0 and grid.max() == 1.0
    np.testing.assert_array_equal(grid[4, :, :], 1.0)  # the padding row between tile rows
    with pytest.raises(ValueError, match="C = 1 or 3"):
        visualize_grid(np.zeros((2, 2, 3, 3)))


def test_figures_are_labelled():
    ax = show_filters(np.random.default_rng(0).standard_normal((4, 1, 3, 3)))
    assert "4 filters of 3x3" in ax.get_title()
    fig = show_images_side_by_side([np.zeros((5, 5)), np.zeros((3, 5, 5))], ["gray", "rgb"])
    assert [a.get_title() for a in fig.axes if a.get_title()] == ["gray", "rgb"]
    fig = show_feature_maps(np.zeros((3, 4, 4)), title="after conv")
    assert fig._suptitle.get_text() == "after conv"
    assert [a.get_title() for a in fig.axes if a.get_title()] == ["channel 0", "channel 1", "channel 2"]
    with pytest.raises(ValueError, match="one title per image"):
        show_images_side_by_side([np.zeros((2, 2))], [])
