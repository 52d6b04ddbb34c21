"""Detection machinery: Presidio's analyzer on a NER-only spaCy pipeline, the NER worker
process and the split of one text's NER between it and the gateway, normalisation, and the
views that let recognizers read only what can match."""
