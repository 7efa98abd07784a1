"""The offline build job; the only subpackage allowed to import torch."""
