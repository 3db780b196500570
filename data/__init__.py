"""Sample inputs for the demo; `data.generate_sample` writes them."""
