"""The loader: resources, device tree, hooks, kexec."""
