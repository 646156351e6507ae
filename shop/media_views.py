"""/shop/media/<key>.jpg: the product pictures, for phones, WeChat's card and the console.

Only files shop/images.py wrote are served: the name must be a key the server made (32 hex
digits, `-t` for the thumbnail), the folder is ours, and the type is always our JPEG. A key
never changes content, so caches may keep a picture for a year.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_file

from shop.images import MEDIA_PREFIX, MediaStore

bp = Blueprint("shop_media", __name__, url_prefix=MEDIA_PREFIX)


@bp.get("/<name>")
def picture(name: str):
    """One stored picture, or 404 for any other name."""
    path = MediaStore(current_app.config["BOT_DATA_DIR"]).locate(name)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=365 * 24 * 3600, conditional=True)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
