"""`pretrain_weights` given as a URL: the cached copy if there is one, else a download that,
when it fails, ends in a few lines naming the URL, the cache and the ways out.

Offline, ppdet's download ends in a 100-line urllib3/requests traceback (`Failed to resolve
...`), and even with the file in its cache it asks the server for the file's MD5 first, so
copying the file there does not help. Here a cached file is used as it is.
"""
import os

from ppdet.utils import download
from ppdet.utils.logger import setup_logger

logger = setup_logger("ppattn.pretrained")


class DownloadError(OSError):
    """pretrain_weights could not be downloaded; the message says what to do instead."""


def cached_path(url: str) -> str:
    """Where ppdet keeps the download of `url` (~/.cache/paddle/weights/<file name>)."""
    return download.map_path(download.parse_url(url), download.WEIGHTS_HOME)


def offline_message(url: str, error: BaseException) -> str:
    """The few lines shown when `url` cannot be downloaded."""
    reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
    return (f"cannot download pretrain_weights {url}\n  ({type(error).__name__}: {reason})\n"
            f"  Either copy the file to {cached_path(url)} (ppdet's cache; it is then used "
            f"without the network),\n"
            f"  or pass -o pretrain_weights=/local/file.pdparams,\n"
            f"  or train from scratch with -o pretrain_weights=")


def resolve_pretrain_weights(weights: str) -> str:
    """A local path for `weights`: itself if it is not a URL, its cached copy, or the path
    ppdet downloads it to. Raises DownloadError (see `offline_message`) if the download fails.
    """
    if not weights or not str(weights).startswith(("http://", "https://")):
        return weights
    cached = cached_path(weights)
    if os.path.isfile(cached):
        logger.info(f"pretrain_weights: using {cached}, the cached copy of {weights}")
        return cached
    try:
        return download.get_weights_path(weights)
    except Exception as error:  # requests' ConnectionError, a timeout, ppdet's RuntimeError
        raise DownloadError(offline_message(weights, error)) from None
