"""The programme's observation grid: drafts, published versions, their checks, import and export."""
