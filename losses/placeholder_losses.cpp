// placeholder so the library has a translation unit; replaced by real sources.
