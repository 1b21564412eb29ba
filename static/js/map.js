/* Interactive maps (Leaflet, served from /static/vendor/leaflet/), over what the server drew.
 *
 * Map pages: each [data-map] frame holds the server-drawn SVG, which stays the map without
 * JavaScript or without a tile server. Here it gives way to a Leaflet map with the tiles of the
 * configured server (data-tile-url, data-tile-attribution), the regions' outlines and a numbered
 * marker per item, whose popup links to the item's page. The data is the GeoJSON in the
 * <script type="application/json"> block the frame names: read as data, never run, so the
 * Content-Security-Policy needs no exception. Each list entry with a point gets a button that
 * shows it on the map.
 *
 * Forms: a [data-map-picker] block above the #latitude and #longitude fields becomes a small map
 * where a click fills them in; the fields stay, for keyboard users and anyone who knows the
 * coordinates.
 *
 * Text from the server reaches the page as text (textContent), never as HTML.
 */
(function () {
  "use strict";

  var BRAND = "#0b5394";
  var MAX_ZOOM = 19;

  function readJson(id) {
    var block = document.getElementById(id);
    if (!block) { return null; }
    try { return JSON.parse(block.textContent); } catch (e) { return null; }
  }

  function escapeHtml(text) {
    var holder = document.createElement("div");
    holder.textContent = text || "";
    return holder.innerHTML;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function baseMap(container, frame, options) {
    var map = L.map(container, options);
    L.tileLayer(frame.getAttribute("data-tile-url"), {
      attribution: escapeHtml(frame.getAttribute("data-tile-attribution")),
      maxZoom: MAX_ZOOM,
      // The site sends no Referer to other origins (Referrer-Policy: same-origin), but tile
      // servers such as OpenStreetMap's refuse browsers that send none: tiles get the site's
      // origin, never the page's address.
      referrerPolicy: "strict-origin"
    }).addTo(map);
    return map;
  }

  function outlineLayer(geojson) {
    // Not interactive: a click goes to the map (the picker's) or to a marker, never an outline.
    return L.geoJSON(geojson, {
      interactive: false,
      style: { color: BRAND, weight: 2, fillColor: BRAND, fillOpacity: 0.06 }
    });
  }

  // --- map pages ---------------------------------------------------------------------------

  function popupContent(p) {
    var box = element("div", "map-popup");
    var heading = element("p", "map-popup-title");
    var link = element("a", null, p.number + ". " + p.title);
    link.href = p.url;
    heading.appendChild(link);
    box.appendChild(heading);
    box.appendChild(element("p", "map-popup-meta", [p.code, p.region_name, p.cost_text].join(" · ")));
    var status = [p.status_label];
    if (p.execution_label) { status.push(p.execution_label); }
    if (p.progress_text) { status.push(p.progress_text); }
    if (p.late_label) { status.push(p.late_label); }
    if (p.votes_text) { status.push(p.votes_text); }
    box.appendChild(element("p", "map-popup-status", status.join(" · ")));
    if (p.cycle_title) { box.appendChild(element("p", "map-popup-meta", p.cycle_title)); }
    return box;
  }

  function markerFor(feature) {
    var p = feature.properties;
    var coordinates = feature.geometry.coordinates;
    var label = p.number + ". " + p.title;
    var icon = L.divIcon({
      className: "map-marker" + (p.kind ? " map-marker-" + p.kind : ""),
      html: String(Number(p.number)),
      iconSize: [30, 30],
      iconAnchor: [15, 15],
      popupAnchor: [0, -14]
    });
    var marker = L.marker([coordinates[1], coordinates[0]], { icon: icon, title: label, riseOnHover: true });
    marker.bindPopup(popupContent(p), { maxWidth: 260 });
    marker.on("add", function () {
      var node = marker.getElement();
      if (node) { node.setAttribute("aria-label", label); }
    });
    return marker;
  }

  function addShowButtons(frame, map, markers) {
    var label = frame.getAttribute("data-show-label");
    var items = document.querySelectorAll(".map-item[data-number]");
    Array.prototype.forEach.call(items, function (item) {
      var marker = markers[item.getAttribute("data-number")];
      var body = item.querySelector(".map-item-body");
      if (!marker || !body) { return; }
      var button = element("button", "link-button map-show", label);
      button.type = "button";
      button.addEventListener("click", function () {
        frame.scrollIntoView({ block: "center" });
        map.setView(marker.getLatLng(), Math.max(map.getZoom(), 16));
        marker.openPopup();
        var node = marker.getElement();
        if (node) { node.focus(); }
      });
      body.appendChild(button);
    });
  }

  function pageMap(frame) {
    var data = readJson(frame.getAttribute("data-map"));
    if (!data || !frame.getAttribute("data-tile-url")) { return; }
    var features = (data.items && data.items.features) || [];
    var regions = (data.regions && data.regions.features) || [];
    if (!features.length && !regions.length) { return; } // the SVG says there is nothing
    var container = element("div", "map-leaflet");
    // A named region: the map takes the keyboard (arrows pan, + and - zoom, Tab to markers).
    container.setAttribute("role", "region");
    container.setAttribute("aria-label", frame.getAttribute("data-map-label") || "");
    frame.appendChild(container);
    frame.classList.add("map-frame-live");
    var map = baseMap(container, frame, { scrollWheelZoom: false });
    var outlines = regions.length ? outlineLayer(data.regions).addTo(map) : null;
    var markers = {};
    var group = L.featureGroup();
    features.forEach(function (feature) {
      var marker = markerFor(feature);
      markers[String(feature.properties.number)] = marker;
      group.addLayer(marker);
    });
    group.addTo(map);
    // Opened on the items (the outlines around them may span the city), else on the outlines.
    var bounds = features.length ? group.getBounds() : outlines.getBounds();
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 });
    addShowButtons(frame, map, markers);
  }

  // --- the form's picker -------------------------------------------------------------------

  function number(field) {
    // As the server reads them: a decimal comma or point, a typographic minus (U+2212).
    var value = parseFloat(String(field.value).replace(",", ".").replace("\u2212", "-"));
    return isFinite(value) ? value : null;
  }

  function picker(block) {
    var latitude = document.getElementById("latitude");
    var longitude = document.getElementById("longitude");
    var data = readJson(block.getAttribute("data-map-picker"));
    var frame = block.querySelector(".map-picker-frame");
    if (!latitude || !longitude || !data || !frame || !block.getAttribute("data-tile-url")) { return; }
    block.hidden = false;
    frame.setAttribute("role", "group");
    frame.setAttribute("aria-label", block.getAttribute("data-map-label") || "");
    frame.setAttribute("aria-describedby", "map-picker-hint");
    // No keyboard panning: a keyboard cannot click a place, and the fields are right below.
    var map = baseMap(frame, block, { scrollWheelZoom: false, keyboard: false });
    var outlines = {};
    Object.keys(data.regions || {}).forEach(function (id) {
      if (data.regions[id]) { outlines[id] = outlineLayer(data.regions[id]).addTo(map); }
    });
    var pin = null;
    var pinIcon = L.divIcon({ className: "map-marker map-marker-pin", html: "", iconSize: [22, 22] });

    function place(lat, lon) {
      if (pin) { pin.setLatLng([lat, lon]); }
      else { pin = L.marker([lat, lon], { icon: pinIcon, keyboard: false, interactive: false }).addTo(map); }
    }

    function showRegion(id) {
      var layer = outlines[id];
      if (layer) { map.fitBounds(layer.getBounds(), { padding: [12, 12] }); return true; }
      return false;
    }

    function showAll() {
      var all = Object.keys(outlines).map(function (id) { return outlines[id]; });
      if (all.length) { map.fitBounds(L.featureGroup(all).getBounds(), { padding: [12, 12] }); }
      else { map.setView(data.centre, 12); }
    }

    var region = document.getElementById("region");
    var lat = number(latitude);
    var lon = number(longitude);
    if (lat !== null && lon !== null) {
      place(lat, lon);
      map.setView([lat, lon], 16);
    } else if (!(region && showRegion(region.value))) {
      showAll();
    }

    map.on("click", function (event) {
      var at = event.latlng.wrap();
      latitude.value = at.lat.toFixed(6);
      longitude.value = at.lng.toFixed(6);
      [latitude, longitude].forEach(function (field) {
        field.dispatchEvent(new Event("change", { bubbles: true }));
      });
      place(at.lat, at.lng);
    });

    function typed() {
      var typedLat = number(latitude);
      var typedLon = number(longitude);
      if (typedLat !== null && typedLon !== null && Math.abs(typedLat) <= 90 && Math.abs(typedLon) <= 180) {
        place(typedLat, typedLon);
        map.panTo([typedLat, typedLon]);
      }
    }
    latitude.addEventListener("input", typed);
    longitude.addEventListener("input", typed);
    if (region) {
      region.addEventListener("change", function () {
        if (number(latitude) === null) { showRegion(region.value); }
      });
    }
  }

  function start() {
    if (typeof L === "undefined") { return; } // Leaflet did not load: the page stays as served
    Array.prototype.forEach.call(document.querySelectorAll("[data-map]"), pageMap);
    Array.prototype.forEach.call(document.querySelectorAll("[data-map-picker]"), picker);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
