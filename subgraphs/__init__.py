"""Federation subgraphs: the identity subgraph and one per programme operator."""
