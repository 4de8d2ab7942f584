"""Use cases of the hub. Each public function is one transaction (`db.atomic()`)."""
