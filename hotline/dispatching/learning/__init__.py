"""Learned dispatch: a text classifier (character TF-IDF + multilingual-e5-small sentence embeddings, self-trained
on unlabelled messages) with no Django dependency, so `dispatch_eval`, the bench and the periodic retraining share it."""
