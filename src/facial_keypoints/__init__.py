"""facial-keypoints
"""

__version__ = "0.1"
