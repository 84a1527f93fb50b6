"""Pure, I/O-free logic shared by the function app and the media host."""
