"""Pinyin of normalised text, for catching homophone spellings (压金, 保正金, "ya jin" for 押金).

Each Chinese character stands for every reading it has (tones dropped), so a polyphonic
character matches whichever reading a phrase needs; a run of English letters that splits
wholly into pinyin syllables ("yajin", "ya jin") stands for those syllables.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PINYIN_DICT

_MAX_SYLLABLE = 6  # "zhuang", "shuang"
# Every toneless pinyin syllable (ü written v), for splitting letters typed as pinyin.
_SYLLABLES = frozenset(
    "a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong "
    "bu ca cai can cang cao ce cei cen ceng cha chai chan chang chao che chen cheng chi "
    "chong chou chu chua chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo "
    "da dai dan dang dao de dei den deng di dia dian diao die din ding diu dong dou du duan "
    "dui dun duo e ei en eng er fa fan fang fei fen feng fiao fo fou fu ga gai gan gang gao "
    "ge gei gen geng gong gou gu gua guai guan guang gui gun guo ha hai han hang hao he hei "
    "hen heng hong hou hu hua huai huan huang hui hun huo ji jia jian jiang jiao jie jin "
    "jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken keng kong kou ku kua kuai "
    "kuan kuang kui kun kuo la lai lan lang lao le lei len leng li lia lian liang liao lie "
    "lin ling liu lo long lou lu luan lun luo lv lve ma mai man mang mao me mei men meng mi "
    "mian miao mie min ming miu mo mou mu na nai nan nang nao ne nei nen neng ni nia nian "
    "niang niao nie nin ning niu nong nou nu nuan nun nuo nv nve o ou pa pai pan pang pao "
    "pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie qin qing "
    "qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo "
    "sa sai san sang sao se sen seng sha shai shan shang shao she shei shen sheng shi shou "
    "shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta tai tan "
    "tang tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang "
    "wei wen weng wo wong wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun "
    "ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei "
    "zen zeng zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai "
    "zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo ".split()
)


# Initials typed alone for a syllable between characters (押j, 保z金).
_INITIALS = frozenset("b p m f d t n l g k h j q x zh ch sh r z c s y w".split())


@dataclass(frozen=True)
class Syllable:
    """One syllable of the text: the readings it may have, where it sits, and whether typed."""

    readings: frozenset[str]
    start: int
    end: int
    typed: bool  # written in Latin letters rather than as a character
    initial: str = (
        ""  # a lone initial typed for a whole syllable (押j for 押金): any reading it begins
    )

    def reads(self, reading: str) -> bool:
        """Whether this syllable may be read `reading`."""
        return reading in self.readings or bool(self.initial) and reading.startswith(self.initial)


def _plain(reading: str) -> str:
    """`lǜ` → `lv`, `yā` → `ya`."""
    reading = (
        reading.replace("ü", "v")
        .replace("ǖ", "v")
        .replace("ǘ", "v")
        .replace("ǚ", "v")
        .replace("ǜ", "v")
    )
    return "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))


@functools.cache
def _table() -> dict[int, str]:
    return PINYIN_DICT


@functools.lru_cache(maxsize=8192)
def readings(char: str) -> frozenset[str]:
    """Every toneless reading of a Chinese character (empty when it has none)."""
    raw = _table().get(ord(char))
    return frozenset(_plain(r) for r in raw.split(",")) if raw else frozenset()


@functools.lru_cache(maxsize=8192)
def primary(char: str) -> str:
    """The first (most common) toneless reading of a character ("" when it has none)."""
    raw = _table().get(ord(char))
    return _plain(raw.split(",")[0]) if raw else ""


def syllables_of(phrase: str) -> tuple[str, ...]:
    """The pinyin of a phrase as a reader would say it (polyphones resolved in context)."""

    return tuple(_plain(s) for s in lazy_pinyin(phrase, style=Style.NORMAL, v_to_u=False))


def _split_latin(word: str) -> list[str] | None:
    """Split a run of letters into pinyin syllables, longest first (None if it does not split)."""
    valid = _SYLLABLES

    def split(rest: str) -> list[str] | None:
        if not rest:
            return []
        for size in range(min(_MAX_SYLLABLE, len(rest)), 0, -1):
            head = rest[:size]
            if head in valid:
                tail = split(rest[size:])
                if tail is not None:
                    return [head, *tail]
        return None

    return split(word) if len(word) <= 40 else None


def stream(text: str) -> list[Syllable]:
    """The syllables of normalised text, in order; other characters are left out."""
    out: list[Syllable] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isascii() and char.isalpha():
            j = i
            while j < n and text[j].isascii() and text[j].isalpha():
                j += 1
            parts = _split_latin(text[i:j])
            if text[i:j] in _INITIALS:
                out.append(Syllable(frozenset(), i, j, True, text[i:j]))
            elif parts:
                at = i
                for part in parts:
                    out.append(Syllable(frozenset((part,)), at, at + len(part), True))
                    at += len(part)
            i = j
            continue
        found = readings(char)
        if found:
            out.append(Syllable(found, i, i + 1, False))
        i += 1
    return out
