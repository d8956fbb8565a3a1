"""What people read: experiments' machinery, figures and one seed's story. Reads result files
and never trains except through ``run``."""
