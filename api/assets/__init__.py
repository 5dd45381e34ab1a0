"""Assets: the equipment at a site, identified by serial and barcode/QR value."""
