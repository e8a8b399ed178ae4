"""Control catalogs (frameworks), baselines and crosswalks between them."""
