# Write IN (a text file) to OUT as `const char NAME[]`, NUL-terminated: bytes, so no
# escaping questions.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "/* Generated from ${IN} by embed.cmake. */\nconst char ${NAME}[] = {${bytes}0};\n")
