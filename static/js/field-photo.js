/* GeoappField.photo: a camera photo made small on the phone before it is sent or queued.
 *
 *   GeoappField.photo.shrink(file) -> Promise<{blob, width, height, before, after, gps}>
 *
 * The photo is drawn upright (its EXIF orientation applied, by the browser when it does so
 * itself, else here) on a canvas at most MAX_SIDE pixels on its long side and encoded as a
 * JPEG, lowering the quality (then the size) until it is under TARGET_BYTES: a 12 MP photo
 * of 4-6 MB becomes 200-450 KB.  The canvas writes no EXIF, so the phone sends no camera,
 * time or GPS metadata either; ``gps`` ({lat, lon} or null) is read from the original's EXIF
 * before that, for the page to offer as the report's position.
 *
 *   GeoappField.photo.readExif(arrayBuffer) -> {orientation, gps, width, height}
 */
(function () {
  "use strict";
  var MAX_SIDE = 1600;
  var TARGET_BYTES = 450 * 1024;
  var QUALITIES = [0.82, 0.72, 0.62, 0.52];

  function u16(view, at, little) { return view.getUint16(at, little); }
  function u32(view, at, little) { return view.getUint32(at, little); }

  function rational(view, at, little) {
    var den = u32(view, at + 4, little);
    return den ? u32(view, at, little) / den : NaN;
  }

  function readIfd(view, tiff, offset, little) {
    var tags = {};
    if (offset + 2 > view.byteLength - tiff) return tags;
    var count = u16(view, tiff + offset, little);
    for (var k = 0; k < count; k++) {
      var at = tiff + offset + 2 + 12 * k;
      if (at + 12 > view.byteLength) break;
      tags[u16(view, at, little)] = { type: u16(view, at + 2, little), count: u32(view, at + 4, little), at: at + 8 };
    }
    return tags;
  }

  function gpsOf(view, tiff, little, ifd) {
    function coord(tag) {
      var t = ifd[tag];
      if (!t || t.type !== 5 || t.count < 3) return NaN;
      var at = tiff + u32(view, t.at, little);
      return rational(view, at, little) + rational(view, at + 8, little) / 60 + rational(view, at + 16, little) / 3600;
    }
    function ref(tag) {
      var t = ifd[tag];
      return t ? String.fromCharCode(view.getUint8(t.at)) : "";
    }
    var lat = coord(2), lon = coord(4);
    if (!isFinite(lat) || !isFinite(lon) || (lat === 0 && lon === 0)) return null;
    if (ref(1) === "S") lat = -lat;
    if (ref(3) === "W") lon = -lon;
    if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
    return { lat: lat, lon: lon };
  }

  // The EXIF orientation and GPS position and the frame size of a JPEG (nulls if absent).
  function readExif(buffer) {
    var view = new DataView(buffer);
    var out = { orientation: 1, gps: null, width: null, height: null };
    if (view.byteLength < 4 || u16(view, 0) !== 0xffd8) return out;
    var i = 2;
    while (i + 4 <= view.byteLength) {
      if (view.getUint8(i) !== 0xff) { i++; continue; }
      var marker = view.getUint8(i + 1);
      if (marker === 0xff) { i++; continue; }
      if (marker === 0xda || marker === 0xd9) break;
      var length = u16(view, i + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc && i + 9 <= view.byteLength) {
        out.height = u16(view, i + 5);
        out.width = u16(view, i + 7);
      }
      if (marker === 0xe1 && i + 10 <= view.byteLength && u32(view, i + 4) === 0x45786966) {  // "Exif"
        try {
          var tiff = i + 10;
          var little = u16(view, tiff) === 0x4949;
          var ifd0 = readIfd(view, tiff, u32(view, tiff + 4, little), little);
          if (ifd0[0x0112]) {
            var o = u16(view, ifd0[0x0112].at, little);
            if (o >= 1 && o <= 8) out.orientation = o;
          }
          if (ifd0[0x8825]) out.gps = gpsOf(view, tiff, little, readIfd(view, tiff, u32(view, ifd0[0x8825].at, little), little));
        } catch (e) { /* a broken EXIF block: no orientation, no position */ }
      }
      i += 2 + length;
    }
    return out;
  }

  function toBlob(canvas, quality) {
    return new Promise(function (resolve, reject) {
      canvas.toBlob(function (b) { if (b) resolve(b); else reject(new Error("toBlob")); }, "image/jpeg", quality);
    });
  }

  function decode(blob) {
    if (window.createImageBitmap) return createImageBitmap(blob);
    return new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = function () { reject(new Error("decode")); };
      img.src = URL.createObjectURL(blob);
    });
  }

  // Whether this browser turns a decoded JPEG upright by itself (modern ones do): a 2x1
  // JPEG tagged "rotate 90°" decodes as 1x2 if so.
  var selfOrienting = null;
  function browserOrients() {
    if (selfOrienting) return selfOrienting;
    var c = document.createElement("canvas");
    c.width = 2; c.height = 1;
    selfOrienting = toBlob(c, 0.9).then(function (b) { return b.arrayBuffer(); }).then(function (buf) {
      var bytes = new Uint8Array(buf);
      var exif = [0xff, 0xe1, 0x00, 0x22, 0x45, 0x78, 0x69, 0x66, 0, 0, 0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8,
        0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0];
      var tagged = new Uint8Array(bytes.length + exif.length);
      tagged.set(bytes.subarray(0, 2), 0);
      tagged.set(exif, 2);
      tagged.set(bytes.subarray(2), 2 + exif.length);
      return decode(new Blob([tagged], { type: "image/jpeg" }));
    }).then(function (img) { return img.width === 1; }, function () { return true; });
    return selfOrienting;
  }

  // Draw ``img`` upright in a canvas of at most ``side`` px, applying ``orientation``.
  function draw(img, orientation, side) {
    var w = img.width, h = img.height;
    var swap = orientation >= 5;
    var scale = Math.min(1, side / Math.max(w, h));
    var dw = Math.round(w * scale), dh = Math.round(h * scale);
    var canvas = document.createElement("canvas");
    canvas.width = swap ? dh : dw;
    canvas.height = swap ? dw : dh;
    var ctx = canvas.getContext("2d");
    var W = canvas.width, H = canvas.height;
    var t = {
      1: [1, 0, 0, 1, 0, 0], 2: [-1, 0, 0, 1, W, 0], 3: [-1, 0, 0, -1, W, H], 4: [1, 0, 0, -1, 0, H],
      5: [0, 1, 1, 0, 0, 0], 6: [0, 1, -1, 0, W, 0], 7: [0, -1, -1, 0, W, H], 8: [0, -1, 1, 0, 0, H]
    }[orientation] || [1, 0, 0, 1, 0, 0];
    ctx.setTransform(t[0], t[1], t[2], t[3], t[4], t[5]);
    ctx.drawImage(img, 0, 0, dw, dh);
    return canvas;
  }

  function shrink(file) {
    var exif = { orientation: 1, gps: null };
    return file.slice(0, 256 * 1024).arrayBuffer().then(function (head) {
      exif = readExif(head);
      return Promise.all([decode(file), browserOrients()]);
    }).then(function (both) {
      var img = both[0];
      var orientation = both[1] ? 1 : exif.orientation;
      var side = MAX_SIDE;
      var attempt = 0;
      function encode() {
        var canvas = draw(img, orientation, side);
        var quality = QUALITIES[Math.min(attempt, QUALITIES.length - 1)];
        return toBlob(canvas, quality).then(function (blob) {
          attempt++;
          if (blob.size <= TARGET_BYTES || attempt >= 8) {
            if (img.close) img.close();
            return { blob: blob, width: canvas.width, height: canvas.height, before: file.size, after: blob.size, gps: exif.gps };
          }
          if (attempt >= QUALITIES.length) side = Math.round(side * 0.8);
          return encode();
        });
      }
      return encode();
    });
  }

  // "1.2 MB", "310 KB": a size as a person reads it.
  function size(bytes) {
    if (bytes >= 1024 * 1024) return (bytes / 1024 / 1024).toFixed(1) + " MB";
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  window.GeoappField = window.GeoappField || {};
  window.GeoappField.photo = { shrink: shrink, readExif: readExif, size: size, TARGET_BYTES: TARGET_BYTES };
})();
