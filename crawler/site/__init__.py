"""Site knowledge as data: the profiles of the network's sites, their URL rules and where links are."""
