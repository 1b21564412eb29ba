"""Places: region boundaries (GeoJSON, checked with Shapely), the location of proposals and
works, GeoJSON for the API and the downloads, and the maps (Leaflet, and a server-drawn SVG for
pages without JavaScript)."""
