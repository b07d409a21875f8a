"""Appeal letters, the appeal block, print packs, the public case page, recorded actions."""
