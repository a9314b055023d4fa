"""Install ppattn: `pip install -e .` (tests: `pip install -e .[dev]`)."""
from setuptools import find_packages, setup

EXPORT = ["paddle2onnx==2.1.0", "onnx==1.17.0", "onnxruntime==1.31.1"]

setup(
    name="ppattn",
    version="0.1.0",
    description="Plug-and-play attention blocks for PaddleDetection backbones",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["ppattn", "ppattn.*"]),
    python_requires=">=3.9",
    install_requires=[
        "paddlepaddle>=3.3,<3.4",
        # paddledet 2.6.0 pins numpy<1.24 and needs the real scikit-learn for `import ppdet`;
        # naming scikit-learn here keeps the resolver from upgrading numpy later
        "paddledet==2.6.0",
        "numpy<1.24",
        "scikit-learn<1.8",
        "pyyaml",
        "matplotlib",  # tools/attention_maps.py's pictures (ppattn.analysis.plots)
    ],
    extras_require={
        # ONNX export and ONNX Runtime; these versions keep numpy at 1.23 for paddledet
        "export": EXPORT,
        "dev": ["pytest", *EXPORT],
    },
)
