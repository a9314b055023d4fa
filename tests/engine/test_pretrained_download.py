"""ppattn.engine.pretrained: pretrain_weights URLs offline; no test touches the network."""
import os
import subprocess
import sys

import pytest
import requests
from ppdet.utils import download

from ppattn.engine.pretrained import DownloadError, resolve_pretrain_weights

from tiny_runs import DEMO, TOOLS

URL = "https://paddledet.bj.bcebos.com/models/pretrained/CSPResNetb_s_pretrained.pdparams"


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """An empty weights cache, and every request failing as it does without DNS."""
    def no_network(*args, **kwargs):
        raise requests.exceptions.ConnectionError(
            "HTTPSConnectionPool(host='paddledet.bj.bcebos.com', port=443): Max retries "
            "exceeded (Caused by NameResolutionError(\"Failed to resolve "
            "'paddledet.bj.bcebos.com'\"))")
    monkeypatch.setattr(download, "WEIGHTS_HOME", str(tmp_path / "weights"))
    monkeypatch.setattr(requests, "get", no_network)
    return tmp_path / "weights"


def test_a_failed_download_names_the_url_the_cache_and_both_ways_out(offline):
    with pytest.raises(DownloadError) as error:
        resolve_pretrain_weights(URL)
    lines = str(error.value).splitlines()
    assert lines[0] == f"cannot download pretrain_weights {URL}"
    assert lines[1].startswith("  (ConnectionError: HTTPSConnectionPool(host='paddledet")
    assert lines[2:] == [
        f"  Either copy the file to {offline}/CSPResNetb_s_pretrained.pdparams (ppdet's cache; "
        f"it is then used without the network),",
        "  or pass -o pretrain_weights=/local/file.pdparams,",
        "  or train from scratch with -o pretrain_weights="]


def test_a_cached_copy_is_used_without_the_network(offline):
    offline.mkdir()
    (offline / "CSPResNetb_s_pretrained.pdparams").write_bytes(b"weights")
    assert resolve_pretrain_weights(URL) == str(offline / "CSPResNetb_s_pretrained.pdparams")


@pytest.mark.parametrize("weights", ["", None, "/local/file.pdparams"])
def test_local_or_empty_weights_are_left_alone(offline, weights):
    assert resolve_pretrain_weights(weights) == weights


def test_train_tool_offline_stops_before_loading_data_in_a_few_lines(tmp_path, tiny_data):
    # a proxy on a closed local port fails every connection the way no network does
    env = {**os.environ, "HOME": str(tmp_path), "MPLCONFIGDIR": str(tmp_path / "mpl"),
           "HTTPS_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
           "NO_PROXY": "", "no_proxy": ""}
    result = subprocess.run([sys.executable, f"{TOOLS}/train.py", "-c", DEMO, "-o",
                             f"TrainDataset.dataset_dir={tiny_data}", f"pretrain_weights={URL}"],
                            cwd=str(tmp_path), capture_output=True, text=True, timeout=300,
                            env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    error = result.stderr[result.stderr.index("error: "):].splitlines()
    assert error[0] == f"error: cannot download pretrain_weights {URL}"
    assert len(error) == 5 and error[-1] == "  or train from scratch with -o pretrain_weights="
