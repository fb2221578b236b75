"""The window's panels, grouped by role: ``config`` (the run's settings), ``editor`` (the
architecture editor), ``runs`` (the runs list), ``curves`` (loss and accuracy), ``inside``
(filters, feature maps, drawing, predictions, saliency, layer health, the convolution
explainer) and ``deeper`` (errors, embedding, ablation); ``inside_views`` holds their tabs.
A module outside a subfolder imports only the names its ``__init__`` exports."""
