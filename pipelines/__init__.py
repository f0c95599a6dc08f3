"""Item pipeline stages, in the order settings.ITEM_PIPELINES runs them: extract, clean, validate, de-duplicate, export."""
