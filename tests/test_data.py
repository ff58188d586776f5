"""Bad input to spae.data gets a clear error that says what to do (real Fashion-MNIST files, no mocks)."""
import pytest
import torch
from PIL import Image

from spae.core import MissingAssetError, get_settings
from spae.data import (DataConfig, run_data, data_info, fashion_mnist, image_folder, load_dataset, mini_imagenet,
                       mini_imagenet_files, mini_imagenet_rows, sample_photos, UnreadableImageError)


def test_missing_root_names_apt_and_download(tmp_path):
    with pytest.raises(MissingAssetError) as e: fashion_mnist('test', root=tmp_path/'nothing-here')
    msg = str(e.value)
    assert 'apt-get install dataset-fashion-mnist' in msg and 'download=True' in msg and 'nothing-here' in msg


def test_truncated_idx_file(tmp_path):
    import gzip, shutil
    src = get_settings().data_path
    shutil.copy(src/'t10k-labels-idx1-ubyte.gz', tmp_path)
    data = gzip.open(src/'t10k-images-idx3-ubyte.gz').read()
    (tmp_path/'t10k-images-idx3-ubyte').write_bytes(data[:-100])  # uncompressed files are accepted too
    with pytest.raises(ValueError, match='truncated'): fashion_mnist('test', root=tmp_path)


@pytest.mark.parametrize('split', ['val', 'training', '', None])
def test_wrong_split(split):
    with pytest.raises(ValueError, match="'train', 'test'"): fashion_mnist(split)


@pytest.mark.parametrize('size', [0, 4, 7, -32, 32.0, '32', True])
def test_unsupported_size(size):
    with pytest.raises(ValueError, match='size'): fashion_mnist('test', size=size)
    with pytest.raises(ValueError, match='size'): sample_photos(size)


def test_real_fashion_mnist_test_split():
    ds = fashion_mnist('test', size=16)
    assert ds.images.shape == (10_000, 3, 16, 16) and ds.images.dtype == torch.float32
    assert torch.bincount(ds.labels).tolist() == [1000]*10
    assert -1 <= ds.images.min() and ds.images.max() <= 1


def _folder(tmp_path):
    for cls in ['a', 'b']:
        (tmp_path/cls).mkdir()
        Image.new('RGB', (20, 30), (10, 200, 30)).save(tmp_path/cls/'ok.png')
    return tmp_path


def test_corrupt_image_names_file(tmp_path):
    root = _folder(tmp_path)
    (root/'b'/'garbage.jpg').write_bytes(b'\xff\xd8\xff not really a jpeg')
    ds = image_folder(root, size=8)
    i = next(i for i, (p, _) in enumerate(ds.samples) if p.endswith('garbage.jpg'))
    with pytest.raises(UnreadableImageError, match='garbage.jpg'): ds[i]
    # through a DataLoader too (the error is re-raised in the main process and still names the file)
    with pytest.raises(Exception, match='garbage.jpg'):
        for _ in torch.utils.data.DataLoader(ds, batch_size=4): pass


def test_truncated_image_names_file(tmp_path):
    root = _folder(tmp_path)
    Image.new('RGB', (64, 64), (1, 2, 3)).save(root/'a'/'cut.jpg')
    data = (root/'a'/'cut.jpg').read_bytes()
    (root/'a'/'cut.jpg').write_bytes(data[:len(data)//2])
    ds = image_folder(root, size=8)
    i = next(i for i, (p, _) in enumerate(ds.samples) if p.endswith('cut.jpg'))
    with pytest.raises(UnreadableImageError, match='cut.jpg'): ds[i]


def test_image_folder_missing_or_empty(tmp_path):
    with pytest.raises(MissingAssetError, match='does not exist'): image_folder(tmp_path/'nope', size=8)
    with pytest.raises(MissingAssetError, match='one sub-folder per class'): image_folder(tmp_path, size=8)
    with pytest.raises(ValueError, match='at least 8'): image_folder(_folder(tmp_path), size=2)


def test_mini_imagenet_errors(tmp_path):
    with pytest.raises(ValueError, match='unknown mini-ImageNet split'): mini_imagenet_rows('validation')
    with pytest.raises(MissingAssetError, match='n01532829'): mini_imagenet(tmp_path, 'train', size=8)
    with pytest.raises(MissingAssetError, match='image-net.org'): mini_imagenet_files(tmp_path/'absent', 'test')


def test_load_dataset_errors(tmp_path):
    with pytest.raises(ValueError, match='unknown dataset'): load_dataset('train', get_settings(dataset='mnist'))
    with pytest.raises(ValueError, match='image_folder'): load_dataset('train', get_settings(dataset='imagefolder'))
    root = _folder(tmp_path)
    s = get_settings(dataset='imagefolder', image_folder=str(root), image_size=8)
    assert len(load_dataset('train', s)) == 2
    with pytest.raises(MissingAssetError, match="no 'val' folder"): load_dataset('val', s)


def test_data_command(capsys, tmp_path):
    assert run_data(DataConfig('info'))['lines'][0].startswith('fashion-mnist')
    fm = next(l for l in capsys.readouterr().out.splitlines() if l.startswith('fashion-mnist'))
    assert 'found' in fm and 'MISSING' not in fm, fm  # the files are installed on this machine
    missing = next(l for l in data_info(get_settings(data_root=str(tmp_path))) if l.startswith('fashion-mnist'))
    assert 'MISSING' in missing and str(tmp_path) in missing and 'apt-get install' in missing, missing
    with pytest.raises(MissingAssetError, match='apt-get install dataset-fashion-mnist'):
        run_data(DataConfig('fashion-mnist', root=str(tmp_path)))
    with pytest.raises(ValueError, match='what must be one of info, fashion-mnist'): DataConfig('nonsense')
