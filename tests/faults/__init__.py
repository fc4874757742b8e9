"""The fault suite: every gateway failure, in compressed time, against the simulator."""
