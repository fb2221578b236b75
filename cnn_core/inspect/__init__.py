"""Looking inside a network: filters, feature maps, saliency, layer health, drawings."""
