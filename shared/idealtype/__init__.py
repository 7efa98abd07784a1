"""idealtype core library: gallery index format, blob/session stores, quiz engine.

Importing this package (or anything outside `idealtype.build`) must never import torch: the
serving functions share it and Lambda's cold start and package size depend on that.
"""

__version__ = "0.1.0"
