// Chinese term pairs for counterfactual tests, in the format of lexicon.ts (simplified script).
// Provenance: written for whet (MIT). The gendered pairs are everyday words; the names are
// illustrative full names built from the commonest surnames (王, 李, 张, 刘, 陈, 杨, 赵, 黄, 周, 吴)
// with given names typical for men and for women, paired one to one. Longer terms win over their
// parts (男朋友 before 男), see counterfactuals.ts.
const GENDER = `
他 她
他们 她们
男 女
男人 女人
男性 女性
男生 女生
男孩 女孩
男士 女士
先生 女士
男朋友 女朋友
男友 女友
丈夫 妻子
老公 老婆
父亲 母亲
爸爸 妈妈
儿子 女儿
哥哥 姐姐
弟弟 妹妹
兄弟 姐妹
爷爷 奶奶
外公 外婆
叔叔 阿姨
舅舅 舅妈
王子 公主
国王 女王
新郎 新娘
男演员 女演员
帅哥 美女
`;

const NAMES = `
王伟 王芳
李强 李娜
张磊 张敏
刘洋 刘静
陈杰 陈丽
杨勇 杨艳
赵军 赵霞
黄涛 黄婷
周斌 周娟
吴刚 吴秀英
`;

const rows = (category: string, block: string) =>
  block.trim().split("\n").map((l) => `${category}\t${l.trim().split(/\s+/).join("\t")}`).join("\n");

export const CHINESE_LEXICON = `${rows("gender", GENDER)}\n${rows("names", NAMES)}\n`;
