//! `/api/v1/projects/{code}/requirements…`: the requirements operations over JSON.
