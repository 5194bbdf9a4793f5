/* pallapp's service worker (hand-written, see docs/security.md "Kept on the device").
   - static files (fingerprinted URLs, never changed in place): from the cache first;
   - pages: always from the network; when there is none, the offline page, which lists the
     forms kept on this device and sends them when the connection returns;
   - posts are never touched: the page script keeps unsent answers (static/offline.js).
   Logged-in pages are never cached here: they hold patient data and are `no-store`. */
"use strict";

var CACHE = "pallapp-{{ version }}";
var PRECACHE = {{ urls|tojson }};
var OFFLINE_URL = {{ offline_url|tojson }};

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      // Without cookies: the offline page must not hold anyone's name.
      return cache.addAll(PRECACHE.map(function (url) {
        return new Request(url, { credentials: "omit" });
      }));
    }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("pallapp-") === 0 && name !== CACHE;
      }).map(function (name) {
        return caches.delete(name);
      }));
    }).then(function () {
      return self.clients.claim();
    })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") {
    return;
  }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(
      caches.match(request).then(function (cached) {
        return cached || fetch(request).then(function (response) {
          if (response.ok && url.searchParams.has("v")) {
            var copy = response.clone();
            caches.open(CACHE).then(function (cache) {
              cache.put(request, copy);
            });
          }
          return response;
        });
      })
    );
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).catch(function () {
        return caches.match(OFFLINE_URL);
      })
    );
  }
});
