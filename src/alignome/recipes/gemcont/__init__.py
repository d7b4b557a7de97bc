"""The ``gemcont`` recipe (papers 002/003): genotype ↔ image CLIP, judged by what held-out embeddings recover.

The building blocks live where every recipe can reuse them (``objectives.contrastive``,
``models.temperature``, ``models.genotype_projector``, ``models.cnn2d``, ``models.vae2d``,
``models.attention_pool``, ``imaging.augment2d``, ``training.scarf``,
``training.image_embedders``, ``evaluation.embedding_recovery``, ``simulate.rotation_study``);
this package wires them into one run: ``schema``, ``methods``, ``study``, ``run``, ``report``,
and ``kind`` for the registry.
"""
