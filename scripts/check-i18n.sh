#!/bin/sh
# check-i18n.sh - the Japanese catalogue is complete: every source file with
# marked strings is in po/POTFILES, and po/ja.po, merged with a catalogue
# extracted from the sources right now, has no untranslated or fuzzy entry
# (msgfmt --check --statistics). Prints the statistics; exits 1 otherwise.
set -u
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for f in $(grep -l -E '(^|[^A-Za-z0-9_])(N?_|ngettext)\("' src/*/*.c src/*/*.h); do
	grep -qx "$f" po/POTFILES || { echo "i18n: $f has marked strings but is not in po/POTFILES"; status=1; }
done
# the same extraction as po/meson.build
xgettext --keyword=_ --keyword=N_ --keyword=ngettext:1,2 --from-code=UTF-8 \
	--add-comments=TRANSLATORS: --package-name=hikyaku -o "$tmp/hikyaku.pot" \
	--files-from=po/POTFILES || exit 1
for po in po/*.po; do
	lang=$(basename "$po" .po)
	msgfmt --check -o /dev/null "$po" || { echo "i18n: $po: msgfmt --check failed"; status=1; }
	msgmerge -q --no-fuzzy-matching "$po" "$tmp/hikyaku.pot" -o "$tmp/$lang.po" || exit 1
	stats=$(msgfmt --check --statistics -o /dev/null "$tmp/$lang.po" 2>&1)
	echo "i18n: $lang: $stats"
	case $stats in
	*untranslated*|*fuzzy*) echo "i18n: $po is incomplete: translate the new messages" \
		"(ninja -C build hikyaku-pot hikyaku-update-po, then edit $po)"; status=1 ;;
	esac
done
[ $status -eq 0 ] && echo "i18n: ok"
exit $status
