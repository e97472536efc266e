"""The distributor: an arq worker that turns due deliveries into real posts."""
