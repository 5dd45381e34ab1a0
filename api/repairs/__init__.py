"""Public repair requests (报修): a customer scans an asset's QR label and reports a fault."""
