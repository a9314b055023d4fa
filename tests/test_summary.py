"""ppattn/summary.py and tools/list_blocks.py: the block table carries each block's own FLOPs."""
import os
import subprocess
import sys

from ppattn.summary import block_rows, markdown_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# [1, 64, 4, 4] input, every block with its defaults; 1024 = N*C*H*W.
# se:  mean 1024, fc1 64*4+4, relu 4, fc2 4*64+64, sigmoid 64, scale 1024
# ese: mean 1024, fc 64*64+64, hardsigmoid 64, scale 1024
# eca: k = 3 for C = 64; mean 1024, conv 64*3, sigmoid 64, scale 1024
# ge:  rd = 4, the same work as se
# psa: four 16-channel 4x4 convs, 16 outputs per position each: 256 * (64*9 + 16*25 + 8*49 +
#      4*81); the shared SE (rd 1) on [4, 16, 4, 4]: mean 1024, fc1 4*17, relu 4, fc2 4*32,
#      sigmoid 64; softmax 3*64; the weighting multiply 1024
HAND_COUNTED = {
    "se": 1024 + 260 + 4 + 320 + 64 + 1024,
    "ese": 1024 + 4160 + 64 + 1024,
    "eca": 1024 + 192 + 64 + 1024,
    "ge": 1024 + 260 + 4 + 320 + 64 + 1024,
    "psa": 256 * (576 + 400 + 392 + 324) + (1024 + 68 + 4 + 128 + 64) + 192 + 1024,
}


def test_table_flops_are_the_hand_counted_ones():
    rows = {r["name"]: r for r in block_rows(64, 4, 4)}
    assert {name: rows[name]["flops"] for name in HAND_COUNTED} == HAND_COUNTED


def test_every_block_reports_positive_flops():
    assert all(r["flops"] > 0 for r in block_rows(64, 4, 4) if "error" not in r)


def test_markdown_row_of_se():
    table = markdown_table([r for r in block_rows(64, 4, 4) if r["name"] == "se"])
    assert table.splitlines()[-1] == (
        '| se | SELayer | Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018. | 580 | '
        '2,696 |')


def test_list_blocks_prints_the_table():
    done = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "list_blocks.py"),
                           "--channels", "64", "--size", "4"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| eca | ECALayer |" in done.stdout and "| 2,304 |" in done.stdout


def test_a_block_that_cannot_take_the_channels_gets_its_error():
    rows = {r["name"]: r for r in block_rows(16, 4, 4)}
    assert rows["psa"]["error"].startswith("PSAModule: conv_groups entry 8 must divide")
    assert "| psa | PSAModule |" in markdown_table([rows["psa"]])
