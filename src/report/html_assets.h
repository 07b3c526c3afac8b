/* html_assets.h - the stylesheet and script every HTML report embeds (no network, no CDN).
 * Both are constant text written verbatim into the page; the script only reads the page. */
#ifndef CUTOVER_REPORT_HTML_ASSETS_H
#define CUTOVER_REPORT_HTML_ASSETS_H

extern const char html_css[];
extern const char html_js[];

#endif
