"""What the NanoTrack family offers, torch-free (read by the tools before torch is imported).

``EXPORT_LAYOUTS``: the export layouts the family registers (``opencv_nano.py``), name -> one
line for ``tools/export_onnx.py --help``.
"""

EXPORT_LAYOUTS = {"opencv-nano": "nanotrack_backbone.onnx + nanotrack_head.onnx (cv2.TrackerNano)"}
