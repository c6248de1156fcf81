"""Raw data: schema checks, validation rules, acquisition, the lake and queries."""
