"""Board and move encoding: positions to tensors, moves to policy indices, symmetries."""

from ringrift.encoding.encoder import ENCODER_VERSION, Encoder
from ringrift.encoding.errors import EncodingError
from ringrift.encoding.shape import EncodingShape
from ringrift.encoding.symmetry import Symmetry, symmetries, transform_move

__all__ = ["ENCODER_VERSION", "Encoder", "EncodingError", "EncodingShape", "Symmetry",
           "symmetries", "transform_move"]
