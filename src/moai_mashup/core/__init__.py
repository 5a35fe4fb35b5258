"""The pure core: values in, values out, no I/O and no heavy imports."""
