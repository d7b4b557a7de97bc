"""3D imaging: preprocessing settings, MONAI preprocessing and the on-disk volume cache."""

from alignome.imaging.cache import CacheStats, VolumeCache
from alignome.imaging.preprocess import preprocess_volume
from alignome.imaging.settings import PreprocessSettings

__all__ = ["CacheStats", "PreprocessSettings", "VolumeCache", "preprocess_volume"]
