"""The one table of display words, in Chinese (``zh``) and English (``en``).

Resource names, natures (约束性/预期性), units, tiers, ownership, column headers, stage names and
the sentences of reports and workbooks all come from here. ``Labels(lang)`` looks them up;
``resource_label(kind)`` is the English name kept for the terminal tables.
"""

from __future__ import annotations

from dataclasses import dataclass

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

# kind: (zh, en, zh counting word)
RESOURCES: dict[str, tuple[str, str, str]] = {
    "beds": ("床位", "beds", "张"),
    "physicians": ("执业（助理）医师", "physicians", "人"),
    "nurses": ("注册护士", "nurses", "人"),
    "gps": ("全科医生", "GPs", "人"),
    "public_health_staff": ("专业公共卫生人员", "public-health staff", "人"),
    "pharmacists": ("药师", "pharmacists", "人"),
    "tcm_physicians": ("中医类别医师", "TCM physicians", "人"),
    "psychiatrists": ("精神科医师", "psychiatrists", "人"),
    "health_technicians": ("卫生技术人员", "health technicians", "人"),
}
RESOURCE_LABELS: dict[str, str] = {k: v[1] for k, v in RESOURCES.items()}

# Values that appear in table cells: natures, tiers, ownership, units, variants, plan modes.
VALUES: dict[str, tuple[str, str]] = {
    "binding": ("约束性", "binding"),
    "expected": ("预期性", "expected"),
    "hospital": ("医院", "hospital"),
    "primary": ("基层", "primary care"),
    "public": ("公立", "public"),
    "private": ("社会办", "private"),
    "per_1000": ("每千人口", "per 1,000"),
    "per_10000": ("每万人口", "per 10,000"),
    "per_100000": ("每十万人口", "per 100,000"),
    "low": ("低方案", "low"),
    "medium": ("中方案", "medium"),
    "high": ("高方案", "high"),
    "min-cost": ("成本最低", "least cost"),
    "max-attainment": ("达成最大", "most attainment"),
    "floor": ("下限", "floor"),
    "ceiling": ("上限", "ceiling"),
    "need": ("需求", "need"),
    "True": ("是", "yes"),
    "False": ("否", "no"),
    "plan cost (nominal)": ("本规划费用（名义）", "plan cost (nominal)"),
    "plan cost (present value)": ("本规划费用（现值）", "plan cost (present value)"),
    "least cost of the targets in each draw (LP, nominal)": (
        "各情景达标的最低费用（线性规划，名义）",
        "least cost of the targets in each draw (LP, nominal)",
    ),
}

# Column headers of every output table (tidy tables, pivots and the comparison).
COLUMNS: dict[str, tuple[str, str]] = {
    "region": ("地区", "region"),
    "year": ("年份", "year"),
    "kind": ("资源", "resource"),
    "tier": ("层级", "tier"),
    "ownership": ("举办主体", "ownership"),
    "variant": ("方案", "variant"),
    "added": ("新增", "added"),
    "stock": ("存量", "stock"),
    "population": ("常住人口", "residents"),
    "births": ("出生", "births"),
    "deaths": ("死亡", "deaths"),
    "migration": ("净迁移", "net migration"),
    "share_60plus": ("60岁以上占比", "60+ share"),
    "share_65plus": ("65岁以上占比", "65+ share"),
    "unit": ("单位", "unit"),
    "ratio": ("千（万）人口数", "per-capita ratio"),
    "capital_cny": ("一次性投入（万元）", "one-off (CNY 10k)"),
    "running_cny": ("运行费用（万元）", "running (CNY 10k)"),
    "total_cny": ("合计（万元）", "total (CNY 10k)"),
    "pv_cny": ("现值（万元）", "present value (CNY 10k)"),
    "expr": ("目标", "target"),
    "nature": ("指标性质", "nature"),
    "sense": ("方向", "sense"),
    "weight": ("权重", "weight"),
    "target_ratio": ("目标值", "target value"),
    "achieved_ratio": ("规划末达到", "achieved"),
    "attainment": ("达成率", "attainment"),
    "shortfall_ratio": ("缺口（千/万人口）", "shortfall (per capita)"),
    "shortfall_units": ("缺口（人/张）", "shortfall (units)"),
    "met": ("达成", "met"),
    "constraint": ("约束", "constraint"),
    "dual": ("影子价格", "shadow price"),
    "explanation": ("说明", "explanation"),
    "budget_cny": ("预算（万元）", "budget (CNY 10k)"),
    "total_cost_cny": ("总费用（万元）", "total cost (CNY 10k)"),
    "score": ("加权达成率", "weighted attainment"),
    "feasible": ("有解", "feasible"),
    "replication": ("重复", "replication"),
    "kpi": ("指标", "KPI"),
    "mean": ("均值", "mean"),
    "ci95_low": ("95%下限", "95% low"),
    "ci95_high": ("95%上限", "95% high"),
    "half_width": ("半宽", "half width"),
    "n": ("次数", "runs"),
    "field": ("字段", "field"),
    "value": ("数值", "value"),
    "source": ("来源", "source"),
    "assumption": ("假设依据", "assumption"),
    "note": ("备注", "note"),
    "metric": ("项目", "item"),
}

# Names of the tables (sheet names, headings).
TABLES: dict[str, tuple[str, str]] = {
    "summary": ("汇总", "Summary"),
    "population": ("人口", "Population"),
    "additions": ("新增", "Additions"),
    "stocks": ("存量", "Stocks"),
    "ratios": ("千人口指标", "Ratios"),
    "costs": ("费用", "Costs"),
    "attainment": ("目标达成", "Attainment"),
    "duals": ("影子价格", "Shadow prices"),
    "sweep": ("预算曲线", "Budget sweep"),
    "referral_runs": ("转诊模拟明细", "Referral runs"),
    "referral_summary": ("转诊模拟", "Referral KPIs"),
    "assumptions": ("假设与来源", "Assumptions"),
    "cost_lines": ("费用说明", "Cost lines"),
    "differences": ("差异字段", "Differences"),
    "comparison": ("方案对比", "Comparison"),
    "uncertainty": ("不确定性", "Uncertainty"),
    "robust_additions": ("稳健规划新增", "Robust plan additions"),
    "need": ("需求", "Need"),
}

KPIS: dict[str, tuple[str, str]] = {
    "episodes": ("就诊事件", "episodes"),
    "visits_primary": ("基层门诊人次", "primary-care visits"),
    "visits_hospital": ("医院门诊人次", "hospital visits"),
    "down_blocked": ("下转受阻", "down-referrals blocked"),
    "admissions_hospital": ("医院入院人次", "hospital admissions"),
    "admissions_primary": ("基层入院人次", "primary-care admissions"),
    "wait_primary_mean_days": ("基层候诊均值（天）", "primary wait, mean (days)"),
    "wait_primary_p95_days": ("基层候诊P95（天）", "primary wait, p95 (days)"),
    "wait_hospital_mean_days": ("医院候诊均值（天）", "outpatient wait, mean (days)"),
    "wait_hospital_p95_days": ("医院候诊P95（天）", "outpatient wait, p95 (days)"),
    "bed_wait_mean_days": ("候床均值（天）", "bed wait, mean (days)"),
    "bed_wait_p95_days": ("候床P95（天）", "bed wait, p95 (days)"),
    "busy_beds_hospital": ("医院在用床位", "hospital beds in use"),
    "mean_los_hospital_days": ("医院平均住院日", "hospital mean length of stay (days)"),
    "visits_total": ("门诊人次", "visits"),
    "primary_share": ("基层诊疗占比", "primary-care share of visits"),
    "up_referrals": ("上转人次", "up-referrals"),
    "down_referrals": ("下转人次", "down-referrals"),
    "discharges": ("出院人次", "discharges"),
    "in_area_rate": ("区域内就诊率", "in-area care rate"),
    "leakage": ("外流患者", "leakage (patients)"),
    "occupancy_hospital": ("医院病床使用率", "hospital bed occupancy"),
    "occupancy_primary": ("基层病床使用率", "primary-care bed occupancy"),
}

# Sentences: str.format templates with named fields.
TEXT: dict[str, tuple[str, str]] = {
    "title": ("{region}卫生资源规划 {first}–{last}年", "{region}: health resource plan {first}-{last}"),
    "scenario_line": (
        "方案 {id}；人口{variant}；{mode}；金额按基年价格。",
        "Scenario {id}; {variant} population; {mode}; amounts at base-year prices.",
    ),
    "total_cost": ("规划期总投入", "Total cost of the plan"),
    "total_cost_yi": ("规划期总投入（亿元）", "Total cost (CNY 100 million)"),
    "plan_mode": ("求解方式", "plan"),
    "budget": ("预算 {amount}", "budget {amount}"),
    "targets_met": ("目标达成", "Targets met"),
    "met_of": ("{met}/{n} 项", "{met} of {n}"),
    "score": ("加权达成率", "Weighted attainment"),
    "plan_heading": (
        "新增资源（按年份、层级；整数，含补充自然减员）",
        "Additions by year and tier (whole units, incl. replacing attrition)",
    ),
    "cost_heading": ("分年度费用", "Cost by year"),
    "att_heading": ("{year}年目标达成情况", "Targets in {year}"),
    "warn_heading": ("提示", "Warnings"),
    "total": ("合计", "total"),
    "sum_row": ("规划期合计", "plan period"),
    "rounded": (
        "数值四舍五入显示，合计按未取整数计算。",
        "Figures are rounded for display; totals are summed before rounding.",
    ),
    "charts_heading": ("图表", "Charts"),
    "method_heading": ("方法与假设", "Method and assumptions"),
    "fig_population": ("常住人口（万人）", "Resident population (10,000 persons)"),
    "fig_stocks": ("资源配置与目标（星号为{year}年目标）", "Per-capita stocks and the {year} targets (stars)"),
    "fig_costs": ("分年度费用（万元）", "Cost by year (CNY 10,000)"),
    "fig_sweep": ("预算与目标达成率", "Target attainment against the plan-period budget"),
    "fig_referral": ("转诊模拟指标（均值及95%置信区间）", "Referral KPIs by year (mean and 95% band)"),
    "axis_year": ("年份", "year"),
    "axis_persons_10k": ("万人", "10,000 persons"),
    "axis_wan": ("万元", "CNY 10,000"),
    "axis_yi": ("预算（亿元）", "budget (CNY 100 million)"),
    "axis_percent": ("%", "%"),
    "axis_share": ("占比（%）", "share (%)"),
    "weighted_score": ("加权达成率", "weighted score"),
    "target_of": ("{name}目标", "{name} target"),
    "warn_unmet": (
        "{name}：{year}年目标 {expr} {unit}，规划可达 {achieved:.2f}，缺口 {short:,.0f} {cw}。",
        "{name}: the {year} target {expr} {unit} is not met; the plan reaches {achieved:.2f}, {short:,.0f} short.",
    ),
    "warn_earliest": (
        "{name}最早可在{earliest}年达到目标。",
        "{name} can reach its target by {earliest} at the earliest.",
    ),
    "warn_diagnosis": (
        "规划期内无法同时达成全部目标，以下为在相同约束下可达到的最优方案。原因：",
        "No plan meets every target on time; this is the best reachable plan under the same limits. Why:",
    ),
    "warn_culprit": ("主要制约因素：{family}。", "The binding limit: {family}."),
    "warn_occupancy": (
        "{year}年模拟的{what}为 {value:.0%}，低于2022年全国医院病床使用率 "
        "{limit:.0%}（国家卫健委统计公报）：新增床位可能闲置。",
        "Simulated {what} in {year} is {value:.0%}, below the national hospital occupancy of {limit:.0%} in 2022 (NHC "
        "statistical bulletin): added beds may stand idle.",
    ),
    "warn_private": (
        "新增床位中社会办占 {share:.0%}（{private:,.0f} 张），不计入公共财政投入。",
        "{share:.0%} of added beds ({private:,.0f}) are private and cost the public budget nothing.",
    ),
    "warn_negative": (
        "有 {n} 条费用为负：存量低于基年时节省的运行费用（见“费用说明”）。",
        "{n} cost lines are negative: running cost saved where a stock falls below its base year (see 'Cost lines').",
    ),
    "note_plan": ("{mode}规划", "{mode} plan"),
    "note_plan_budget": ("预算{budget}内的{mode}规划", "{mode} plan within a budget of CNY {amount:,.0f}"),
    "note_best_budget": (
        "没有规划能达到全部目标；这是在约束与预算{budget}内最接近目标的规划",
        "no plan meets every target; this is the best reachable plan under the constraints and the budget of "
        "CNY {amount:,.0f}",
    ),
    "note_best_least": (
        "没有规划能达到全部目标；这是在约束下最接近目标、费用最低的规划",
        "no plan meets every target; this is the best reachable plan under the constraints at least cost",
    ),
    "mc_dist_two_piece_normal": ("两段正态分布，每千人口每年", "two-piece normal, per 1,000 a year"),
    "mc_dist_lognormal": ("对数正态系数", "lognormal factor"),
    "mc_dist_correlation": ("各率冲击的相关系数", "correlation of the rate shocks"),
    "mc_dist_observed": ("按观测值", "as observed"),
    "mc_dist_need_scaled": (
        "中方案需求 × 抽样常住人口 / 中方案常住人口 × 需求系数",
        "medium need x drawn residents / medium residents x demand factor",
    ),
    "mc_note_variants": ("取自{variants}", "from the {variants} variant{plural}"),
    "variant_sep": ("、", " and "),
    "mc_note_no_spread": (
        "无离散：没有方案改变此率，[uncertainty] 也未给出",
        "no spread: no variant changes this rate and [uncertainty] gives none",
    ),
    "mc_note_independent": ("相互独立", "independent"),
    "mc_note_observed_from": (
        "{year}年及以前按观测值；每次抽样从{year}年人口起预测",
        "years up to {year} as observed; each draw projected on from the {year} population",
    ),
    "mc_note_need_age_mix": (
        "每次抽样沿用中方案的年龄结构（近似：规划期内生育与迁移冲击只使65岁及以上占比变动不到1个百分点）",
        "the age mix of the medium projection is kept in every draw (an approximation: "
        "fertility and migration shocks move the 65+ share by a fraction of a point over a plan)",
    ),
    "mc_note_need_none": (
        "情景没有 [demand] 部分：不评估需求",
        "the scenario has no [demand] section: need is not evaluated",
    ),
    "rp_fixed_point": (
        "经{it}轮达到不动点：{year}年模拟床位使用率医院{occ_h:.0%}、基层{occ_p:.0%}（{band}），"
        "床位等候时间P95为{wait:.2f}天",
        "fixed point after {it} iteration{plural}: simulated {year} bed occupancy {occ_h:.0%} hospital, "
        "{occ_p:.0%} primary care ({band}), p95 bed wait {wait:.2f} days",
    ),
    "rp_band_inside": ("在{lo:.0%}-{hi:.0%}的服务区间内", "inside the {lo:.0%}-{hi:.0%} service band"),
    "rp_band_flagged": (
        "没有层级高于{hi:.0%}，但标注的层级低于{lo:.0%}的下限",
        "no tier above {hi:.0%}, but below the {lo:.0%} floor where flagged",
    ),
    "rp_stalled": (
        "经{it}轮后停止：在约束下规划无法增加模拟所需的床位（{reasons}）",
        "stopped after {it} iterations: the plan cannot add the beds the simulation asks for ({reasons}) "
        "under the constraints",
    ),
    "rp_limit": (
        "在{limit}轮内（上限，[demand.standards].max_iterations）未达到不动点：最后的规划仍不满足标准（{reasons}）",
        "no fixed point within {limit} iterations (the limit, [demand.standards].max_iterations): the last plan "
        "still breaks a standard ({reasons})",
    ),
    "rp_reason_occupancy": ("使用率{value:.0%}高于{limit:.0%}", "occupancy {value:.0%} above {limit:.0%}"),
    "rp_reason_wait": (
        "床位等候时间P95为{value:.2f}天，高于{limit:g}天",
        "p95 bed wait {value:.2f} days above {limit:g}",
    ),
    "rp_reason_sep": ("；", "; "),
    "rp_reason_of": ("{tier}：{why}", "{tier}: {why}"),
    "rp_action_raise": ("增至{floor:,.0f}张床位（{why}）", "raise to {floor:,.0f} beds ({why})"),
    "rp_action_within": ("符合标准", "within standards"),
    "rp_overbuilt": (
        "{year}年{tier}床位使用率为{occ:.0%}，低于{lo:.0%}的下限：按{target:.0%}的使用率，"
        "比模拟患者所需多约{spare:,.0f}张{tier}床位（相对需求建设过多：{why}）。",
        "{tier} beds run at {occ:.0%} in {year}, below the {lo:.0%} floor: about {spare:,.0f} more {tier} beds "
        "than the simulated patients fill at {target:.0%} occupancy (overbuilt for the demand: {why}).",
    ),
    "rp_overbuilt_added": ("规划为达到目标新增{added:,.0f}张", "the plan adds {added:,.0f} to reach its targets"),
    "rp_overbuilt_base": (
        "{base_year}年的床位已超过需求，且没有规划会减少床位",
        "the {base_year} stock already exceeds the demand and no plan removes beds",
    ),
    "warn_none": ("全部目标按期达成，无其他提示。", "Every target is met on time; nothing else to flag."),
    "method": (
        "人口：{method}法预测（出生、死亡、迁移率按每千人口计）；"
        "资源：线性规划（Pyomo/HiGHS）在满足目标与现实约束下求最低费用（或预算内最大达成）；"
        "转诊：SimPy 离散事件模拟，{reps} 次重复，随机种子 {seed}。",
        "Population: {method} projection (birth, death and migration rates per 1,000); resources: a linear programme "
        "(Pyomo/HiGHS) at least cost under the targets and realism limits (or most attainment within the budget); "
        "referrals: SimPy discrete-event simulation, {reps} replications, seed {seed}.",
    ),
    "assumptions_intro": (
        "下表列出方案中的每个数值及其来源（种子文件:行号）或假设依据。",
        "Every number of the scenario with its source (seed file:line) or the reasoning of its assumption.",
    ),
    "font_missing": (
        "生成本报告的电脑未找到中文字体，未嵌入字体；请安装 fonts-noto-cjk。",
        "No CJK font was found on the machine that wrote this report, so none is embedded; install fonts-noto-cjk.",
    ),
    "footer": (
        "由 healthsim 生成。标为“假设”的数值不是规划原文数据。",
        "Made by healthsim. Figures marked as assumptions are not from the seed plan.",
    ),
    "capital_line": (
        "一次性投入 = 当年新增数 × 单位建设/招聘成本（{cost}）",
        "one-off = units added that year × capital per unit ({cost})",
    ),
    "running_line": (
        "运行费用 = (当年存量 − 基年存量) × 年运行成本（{cost}）；存量低于基年时为负（节省）",
        "running = (stock that year − base-year stock) × annual cost ({cost}); negative (a saving) when below the base "
        "year",
    ),
    "primary_factor": ("基层系数 {f:g}", "primary-care factor {f:g}"),
    "compare_title": ("方案对比：{names}", "Scenario comparison: {names}"),
    "compare_diff": ("各方案之间不同的字段", "Fields that differ between the scenarios"),
    "compare_none": ("各方案的输入字段相同。", "The scenarios' inputs are identical."),
    "compare_table": ("对比表", "Side by side"),
    "pop_in": ("{year}年常住人口", "residents {year}"),
    "added_total": ("规划期新增{name}", "{name} added"),
    "cost_in": ("{year}年费用（万元）", "cost {year} (CNY 10k)"),
    "cost_total": ("总费用（亿元）", "total cost (CNY 100 M)"),
    "att_of": ("{name}达成率", "{name} attainment"),
    "kpi_of": ("{year}年{name}", "{name} {year}"),
    "need_of": ("{year}年{name}需求", "{name} needed {year}"),
    "absent": ("（无）", "(none)"),
    "cost_words": ("规划期公共投入合计{total}{pv}{budget}。", "Total public cost {total}{pv}{budget}."),
    "cost_pv": ("（按年折现率{rate:.0%}计现值{pv}）", " (present value {pv} at {rate:.0%} a year)"),
    "cost_budget": ("，预算{budget}以内", " within a budget of {budget}"),
    "units_fractional": ("非整数方案（已关闭整数单位）。", "Fractional plan (whole units switched off)."),
    "units_milp": (
        "床位与人员均为整数：混合整数规划求解{gap}。",
        "Whole beds and persons: solved in whole units (MILP{gap}).",
    ),
    "units_repaired": (
        "床位与人员均为整数：线性规划结果取整并修复{gap}。",
        "Whole beds and persons: LP rounded to whole units and repaired (MILP{gap}).",
    ),
    "units_gap": ("（最优性间隙{gap:.2%}）", ", optimality gap {gap:.2%}"),
    "cal_fit": (
        "按{years}年的观测常住人口校准：拟合净迁移率每千人{fitted:+.2f}（情景原设{assumed:+.2f}）。",
        "Calibrated to the observed populations of {years}: fitted net migration {fitted:+.2f} per 1,000 a year (the "
        "scenario assumed {assumed:+.2f}).",
    ),
    "cal_error": (
        "以拟合迁移率从{base}年起预测的误差：均方根{rms:.2%}，最大{max:.2%}（{errors}）。",
        "Fit error of the projection from {base} with the fitted rate: RMS {rms:.2%}, max {max:.2%} ({errors}).",
    ),
    "cal_next": (
        "{latest}年以后从该年观测人口出发，按情景设定的比率继续预测（中方案净迁移率每千人{assumed:+.2f}）。",
        "The projection continues from the observed {latest} population with the scenario's assumed rates (net "
        "migration {assumed:+.2f} per 1,000 a year in the medium variant).",
    ),
    "cal_variants": ("其他方案的净迁移率（每千人）：{rates}。", "Variants' net migration (per 1,000 a year): {rates}."),
    "cal_widened": ("（已放宽以覆盖观测值）", " (widened to bracket the observations)"),
    "dual_max_short": (
        "{name}目标尚有缺口：{per}指标每降低1，加权缺口减少{value:.4f}（其权重除以目标值），规划本身不变。",
        "The {name} target is short: each {step} lower would shrink the weighted shortfall by "
        "{value:.4f} (its weight over its target) without changing the plan.",
    ),
    "dual_max_exact": (
        "{name}目标恰好达到且起约束作用：{per}指标每提高1，其他目标的加权缺口增加{value:.4f}。",
        "The {name} target is met exactly and binds: each {step} higher would cost the others "
        "{value:.4f} of weighted shortfall.",
    ),
    "dual_max_met": (
        "{name}目标已达到且有余量，不制约其他目标。",
        "The {name} target is met with room to spare and does not hold the others back.",
    ),
    "share_per": ("占比（百分点）", "share (percentage points)"),
    "target_name": ("{res}", "{name}"),
    "target_name_share": ("{res}（社会办医占比）", "{name}"),
    "look_when": ("{year}年可达到", "reachable in {year}"),
    "look_never": ("在相同约束下到{year}年仍无法达到", "not reachable by {year} under the same limits"),
    "look_rate": ("按期达到需每年新增不低于{need}（现限{now}）", "on time only with >= {need}/yr {what}, limit {now}"),
    "look_without": ("按期达到需放开：{family}", "on time only without {family}"),
    "look_others": (
        "按期达到需其他目标让步（它们共用同样的限制）",
        "on time only if the other targets give way (they compete for the same limits)",
    ),
    "look_several": ("按期达到需同时放宽多项限制", "on time only if several limits are relaxed together"),
    "look_sentence": ("{target}：{when}；{change}。", "{target}: {when}; {change}."),
    "look_target": ("{name} {expr}", "{name} {expr} {unit}"),
    "look_target_share": ("{name} {expr}", "{name} {expr}"),
    "mc_joint": (
        "在{n:,}个抽样情景（随机种子{seed}）中，本规划在{p:.0%}的情景下达到{year}年全部目标。",
        "Over {n:,} drawn futures (seed {seed}), the plan meets every {year} target in {p:.0%} of them.",
    ),
    "mc_target": ("{target}：{p:.0%}的情景达标（±{se:.1%}）。", "{target}: met in {p:.0%} of futures (± {se:.1%})."),
    "mc_need": (
        "{year}年{name}需求（中方案{units:,.0f}{counter}）：规划在{p:.0%}的情景下满足（±{se:.1%}）。",
        "{name} needed in {year} ({units:,.0f} at the medium projection): the plan covers it in {p:.0%} of futures (± "
        "{se:.1%}).",
    ),
    "mc_cost": (
        "按假设单价，本规划费用{cost}；建设与人员成本波动时，中位数{p50}（10%至90%分位：{p10}至{p90}）。",
        "At its assumed prices the plan costs {cost}; as capital and salary costs vary, {p50} at the median (10-90%: "
        "{p10} to {p90}).",
    ),
    "mc_reachable": (
        "在现有约束下，{p:.0%}的情景存在达到全部目标的规划。",
        "A plan meeting every target exists under the constraints in {p:.0%} of futures.",
    ),
    "mc_robust": (
        "在{share}下都能达标的规划比本规划{more}{amount}（{robust}，本规划{plan}）；它在{joint:.0%}的抽样中同时达到全部目标。",
        "A plan holding in {share} costs {amount} {more} than this plan ({robust} against {plan}); it meets every "
        "target together in {joint:.0%} of the draws.",
    ),
    "mc_robust_best": (
        "在约束下无法全部达标；在{share}下尽量接近目标的规划比本规划{more}{amount}（{robust}，本规划{plan}）；它在{joint:.0%}的抽样中同时达到全部目标。",
        "No plan meets every target under the constraints; one getting as close as they allow in {share} costs "
        "{amount} {more} than this plan ({robust} against {plan}); it meets every target together in {joint:.0%} "
        "of the draws.",
    ),
    "mc_more": ("多花", "more"),
    "mc_less": ("少花", "less"),
    "mc_over_budget": ("这超出预算{budget}。", "That is above the budget of {budget}."),
    "mc_share_tenths": ("每10个情景中的{k}个", "{k} of 10 futures"),
    "mc_share_pct": ("{p:.0%}的情景", "{p:.0%} of futures"),
    "targets_differ": ("目标与基准不同：{diff}", "targets differ from the base: {diff}"),
    # page headings and notes (scenarios.report.html), chart legends, the workbook
    "html_lang": ("zh-CN", "en"),
    "region_title": ("{region}：{title}", "{region}: {title}"),
    "uncertainty_title": ("{region}：{year}年规划的不确定性", "{region}: uncertainty of the {year} plan"),
    "base_head": ("基年 {year}：观测值与推算值", "Base year {year}: observed and projected figures"),
    "base_note": (
        "kind：observed = 公开发布的数据（注明出处）；projected = healthsim 推算（人口：校准后的预测；"
        "存量：上一规划的结果）；base = 情景自身的基年数据。",
        "kind: observed = a published figure (cited); projected = derived by healthsim (population: the "
        "calibrated projection; stocks: the previous plan's result); base = the scenario's own base-year "
        "figure.",
    ),
    "cal_head": ("人口预测按观测年份校准", "Population calibrated to observed years"),
    "outlook_head": (
        "未达标目标：最早可达年份与按期达标所需的最小调整",
        "Unmet targets: the earliest year, and the least change to meet them on time",
    ),
    "outlook_note": (
        "在相同约束下把规划期延长至2035年（人口取自预测，规划期预算按年数折算）求最早达标年份；"
        "按期达标所需为约束最紧的限制的最小调整。",
        "The horizon is extended year by year to 2035 under the same limits (population from the "
        "projection, a plan-period budget pro rata); the least change resizes the limit that binds.",
    ),
    "milestones_head": (
        "年度目标（逐年达到值，括号内为直线路径）",
        "Yearly milestones (年度目标): value reached (straight-line milestone)",
    ),
    "milestones_note": (
        "直线路径：从基年值到目标（未能达标的目标：到规划承诺的可达值）。",
        "The straight line from the base-year value to the target (for a target the plan cannot meet, "
        "to the value it commits to).",
    ),
    "observed": ("观测值", "observed"),
    "unc_head": ("不确定性：规划达标的可能性", "Uncertainty: how likely the plan is to meet its targets"),
    "unc_median": ("抽样中位数", "median of the draws"),
    "unc_medium": ("中方案", "medium projection"),
    "unc_this_plan": ("本规划", "this plan"),
    "unc_least_cost": ("该情形下达标的最低费用", "least cost of the targets in that future"),
    "unc_draws": ("抽样数", "draws"),
    "unc_cost_axis": ("规划期公共投入（亿元）", "plan-period public cost (亿元)"),
    "unc_robust": ("稳健规划 ({share:.0%})", "robust plan ({share:.0%})"),
    "unc_prob_axis": ("达标概率（%）", "% of futures"),
    "unc_title_fan": (
        "常住人口：{draws:,}次抽样的P10-P90区间",
        "Resident population over {draws:,} drawn futures (P10-P90)",
    ),
    "unc_title_cost": ("规划期公共投入的分布", "Plan-period public cost over the draws"),
    "unc_title_probability": ("{year}年各目标的达标概率", "Probability of meeting each {year} target"),
    "wan_column": ("{name}（{unit}）", "{name} ({unit})"),
    "compare_share_name": ("{name}（社会办医占比）", "{name} (private share)"),
    "compare_expr": ("{expr}（{nature}）", "{expr} ({nature})"),
    # a probability row's target (scenarios.report.words.target_text)
    "need_word": ("{res}需求", "{res} needed"),
    "need_target": ("{word} {expr}{cw}", "{word} {expr}{cw}"),
    "share_target": ("社会办医院{res}占比 {expr}", "{name} {expr}"),
    "numeric_target": ("{per}{res} {expr}", "{name} {expr} {per}"),
    "growth_target": ("{res} {expr}（{per}{ratio:.2f}）", "{name} {expr} ({ratio:.2f} {per})"),
    "list_sep": ("、", ", "),
    # disinvestment (scenarios.report.words.disinvestment_words)
    "disinvest": (
        "已允许缩减：床位或人员可低于基年存量。{cuts}{lines}",
        "Disinvestment is on: pools of beds or staff may fall below their base-year stock.{cuts}{lines}",
    ),
    "disinvest_cuts": ("缩减{items}。", " It cuts {items}."),
    "disinvest_item": ("{name}{units:,.0f}{cw}", "{units:,.0f} {name}"),
    "disinvest_lines": (
        "有{n}条运行费用为负：存量低于基年时的节省（未补充自然减员或缩减）。",
        " {n} running-cost lines are negative: savings on stock held below the base year "
        "(leavers not replaced, or cuts).",
    ),
    # shadow prices (scenarios.report.words.dual_words): {step} one unit of a ratio or one percentage point
    "step_ratio": (" 1 {unit}", "one {unit}"),
    "step_point": (" 1 个百分点", "one percentage point"),
    "dual_size": ("（{units:,.0f} {cw}）", " ({units:,.0f} {name})"),
    "dual_pv": ("（按年折现率{rate:.0%}计现值）", " (present value at {rate:.0%} a year)"),
    "dual": (
        "{year}年{name}目标每提高{step}{size}，规划期费用增加 {amount}{pv}。",
        "Raising the {year} {name} target by {step}{size}, with its yearly milestones, costs {amount} more over "
        "the plan period{pv}.",
    ),
    "dual_ceiling": (
        "{year}年{name}上限每降低{step}，规划期费用增加 {amount}{pv}。",
        "Lowering the {year} {name} ceiling by {step} costs {amount} more over the plan period{pv}.",
    ),
    "dual_slack": (
        "{name}目标（{expr} {unit}）不构成约束。",
        "The {name} target ({expr} {per}) does not bind: other constraints already carry {name} past it.",
    ),
    "dual_max_unpriced": (
        "{name}目标尚有缺口，受预算以外的其他限制制约。",
        "The {name} target is short, held back by limits other than the budget.",
    ),
    "budget_binds": (
        "预算起约束作用：预算每增加1元，费用节省{value:.4f}元。",
        "The budget binds: every extra CNY 1 of budget saves CNY {value:.4f} of cost.",
    ),
    "budget_slack": (
        "预算不构成约束：最低费用方案在预算以内。",
        "The budget does not bind: the least-cost plan fits within it.",
    ),
    "budget_points": (
        "预算每增加100万元，各目标的加权达成率提高{value:.4f}个百分点。",
        "Each extra CNY 1 million of budget raises the weighted attainment of the targets by {value:.4f} "
        "percentage points.",
    ),
    "budget_all_met": ("预算不构成约束：全部目标均已达成。", "The budget does not bind: every target is met."),
    "budget_unmet": (
        "预算不构成约束，但{n}项目标中有{unmet}项未达成：其他限制（招聘、建设、人员配比）阻碍进一步改善，"
        "增加投入无济于事。",
        "The budget does not bind, yet {unmet} of {n} targets are unmet: other limits (hiring, "
        "construction, staffing ratios) stop further progress, so more money would not help.",
    ),
    "dual_unit_cny": ("元/{step}", "CNY per {step}"),
    "dual_unit_objective": ("目标函数值/{step}", "objective per {step}"),
    "dual_unit_cny_per_cny": ("元/元", "CNY per CNY"),
    "dual_unit_points_per_cny_million": ("达成率百分点/百万元", "attainment points per CNY 1 million"),
    # the infeasibility diagnosis (scenarios.report.words.diagnosis_words)
    "diag_contradiction": (
        "约束之间相互矛盾（与目标无关）：{family}无法与{others}同时满足。",
        "The constraints contradict each other, whatever the targets: {family} cannot hold together with {others}.",
    ),
    "diag_nothing_else": ("其余约束", "nothing else"),
    "diag_join": ("、", ", "),
    "diag_nurse": (
        "到{year}年达到每名医师{ratio:g}名护士，所需护士超过年度新增上限。",
        " Reaching {ratio:g} nurses per physician by {year} needs more nurses than the yearly limits on "
        "additions allow.",
    ),
    "diag_budget_floor": (
        "预算低于维持基年存量（补充自然减员）的费用。",
        " The budget is below the cost of keeping the base-year stock (replacing staff who leave).",
    ),
    "diag_relax": (
        "请在方案中放宽其中一项（[constraints] 或 [constraints.enabled]）。",
        " Relax one of them in the scenario ([constraints] or [constraints.enabled]).",
    ),
    "diag_unknown": (
        "没有能达成全部目标的规划，但无法归因于单一约束。",
        "No plan meets every target, but no single constraint family explains it.",
    ),
    "diag_targets": (
        "{year}年无法达成全部目标：{family}与目标无法同时满足{also}",
        "No plan meets every target in {year}: {family} cannot be kept together with the targets{also}",
    ),
    "diag_also": ("（同时施加：{families}）。", " (with {families} also enforced)."),
    "diag_end": ("。", "."),
    "diag_budget_total": (
        "达成全部目标需{need}；预算为{budget}（缺口{short}）。",
        "Meeting every target needs {need}; the budget is {budget} (short by {short}).",
    ),
    "diag_budget_per_year": (
        "最低费用方案的年度峰值为{peak}；年度上限为{cap}。",
        "The least-cost plan peaks at {peak} in one year; the yearly cap is {cap}.",
    ),
    "diag_best": ("在全部约束下可达到的最优方案：", "The best reachable plan under every constraint delivers:"),
    "diag_short": (
        "  {name}（{region}）：最优可达 {value}，目标 {expr}，缺口 {short}",
        "  {name} ({region}): best reachable {value} against the target {expr}, short by {short}",
    ),
    "diag_next": (
        "可用 --mode max-attainment（并给出 --budget）求最优方案，或在方案中放宽该约束。",
        "Run with --mode max-attainment (and a --budget) for the best plan, or relax that constraint in the scenario.",
    ),
    # the unmet-target outlook (scenarios.report.words.outlook_words)
    "look_scale": (
        "按期达到需每年新增不低于{need}（现限{now}）",
        "on time only with every yearly hiring limit {scale:.2f} times as high ({label} >= {need}/yr, "
        "limit {now}; the limits of related staff bind too)",
    ),
    "look_rate_other": (
        "按期达到需同时提高其他资源的年度新增上限",
        "on time only with the yearly limits on additions raised for other kinds as well",
    ),
    "look_budget_total": (
        "按期达到需{family}不低于{need}（现为{now}）",
        "on time only with a plan-period budget of >= {need}, budget {now}",
    ),
    "look_budget_per_year": (
        "按期达到需{family}不低于{need}（现为{now}）",
        "on time only with a yearly budget of >= {need}, cap {now}",
    ),
    "what_private": ("社会办新增", "private additions"),
    "what_hiring": ("招聘", "hiring"),
    "what_additions": ("新增", "additions"),
    "per_year": ("{share:.0%}/年", "{share:.0%}/yr"),
}

# Constraint families of the allocation model (optimize.model.FAMILIES), as a planner names them.
FAMILY_NAMES: dict[str, tuple[str, str]] = {
    "no_decline": ("存量不减", "no pool below its base-year stock"),
    "subsets": ("子类计入上级（全科、中医计入医师）", "subsets counted inside their parent kind"),
    "hiring_limits": ("年度新增上限（培养与建设能力）", "yearly limits on additions"),
    "private_growth": ("社会办医年增长上限", "yearly growth limit of private beds"),
    "nurse_physician_ratio": ("医护比下限", "nurses per physician"),
    "hospital_nurses_per_bed": ("医院床护比下限", "hospital nurses per bed"),
    "gp_primary_share": ("全科医生在基层的比例", "GPs' primary-care share"),
    "primary_share_band": ("基层占比变动幅度", "band on the primary-care share"),
    "milestones": ("年度目标线", "yearly milestones"),
    "capital_smoothing": ("年度投资平滑", "capital smoothing"),
    "floors": ("需求下限", "floors from need"),
    "budget_per_year": ("年度预算上限", "yearly budget cap"),
    "budget_total": ("规划期预算", "plan-period budget"),
    "others": ("其他目标让步", "the other targets giving way"),
    "several": ("多项限制同时放宽", "several limits relaxed together"),
}

# The constraint families as a sentence names them (the infeasibility diagnosis, the outlook).
FAMILY_WORDS: dict[str, tuple[str, str]] = {
    "no_decline": ("存量不减", "no pool of beds or staff may fall below its base-year stock (disinvestment is off)"),
    "subsets": (
        "子类计入上级（全科、中医计入医师）",
        "subsets (GPs, TCM physicians) are counted inside their parent kind",
    ),
    "hiring_limits": (
        "年度新增上限（培养与建设能力）",
        "the yearly limits on additions (training pipeline and construction capacity)",
    ),
    "private_growth": ("社会办医年增长上限", "the yearly limit on private (社会办医) additions"),
    "nurse_physician_ratio": ("医护比下限", "the nurse-to-physician ratio floor"),
    "hospital_nurses_per_bed": ("医院床护比下限", "the floor on nurses per hospital bed"),
    "gp_primary_share": ("全科医生在基层的比例", "the share of GPs that must work in primary care"),
    "primary_share_band": ("基层占比变动幅度", "the band on each resource's primary-care share"),
    "milestones": ("年度目标线", "the yearly milestones (a straight line from the base year to each target)"),
    "capital_smoothing": ("年度投资平滑", "the cap on any one year's share of the plan's capital spending"),
    "floors": ("需求下限", "the floors on beds and staff from projected need (and the simulated service standards)"),
    "budget_per_year": ("年度预算上限", "the yearly budget cap"),
    "budget_total": ("规划期预算", "the plan-period budget"),
}

# Column headers of the tables written on the page (fields as in TEXT).
HEADERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "outlook": (
        ("目标", "目标值", "{year}年可达", "最早达到年份", "制约因素", "现行限制", "按期达到所需"),
        ("target", "expr", "reached {year}", "earliest year", "binding limit", "limit", "needed on time"),
    ),
    "probability": (
        ("目标", "性质", "本规划达标概率", "±（95%）", "稳健规划（{share}）"),
        ("target", "nature", "this plan", "± (95%)", "robust plan ({share})"),
    ),
    "uncertainty_parts": (
        ("达标概率", "费用（亿元）", "抽样假设"),
        ("Probabilities", "Cost (CNY 100 million, 亿元)", "Assumptions of the draws"),
    ),
    "uncertainty_cost": (("费用", "均值", "10%分位", "中位数", "90%分位"), ("measure", "mean", "P10", "median", "P90")),
    "uncertainty_cost_wan": (
        ("费用", "均值（万元）", "10%分位（万元）", "中位数（万元）", "90%分位（万元）"),
        ("measure", "mean (CNY 10k)", "P10 (CNY 10k)", "median (CNY 10k)", "P90 (CNY 10k)"),
    ),
    "uncertainty_assumptions": (
        ("输入", "分布", "5%分位", "中位数", "95%分位", "依据"),
        ("input", "distribution", "P5", "median", "P95", "source or assumption"),
    ),
}

STAGES: dict[str, tuple[str, str]] = {
    "projection": ("人口预测", "projection"),
    "optimisation": ("资源优化", "optimisation"),
    "budget sweep": ("预算曲线", "budget sweep"),
    "referral simulation": ("转诊模拟", "referral simulation"),
    "uncertainty": ("不确定性分析", "uncertainty"),
    "writing": ("写出文件", "writing files"),
}

METHODS: dict[str, tuple[str, str]] = {
    "components": ("要素", "components"),
    "cohort-component": ("队列要素", "cohort-component"),
}


def resource_label(kind: str) -> str:
    """English display name of a resource kind (the kind itself when it has none)."""
    return RESOURCE_LABELS.get(kind, kind)


def check_lang(lang: str | None) -> str:
    """``lang`` when it is one of :data:`LANGS`, the default when None; ValueError otherwise."""
    if lang is None:
        return DEFAULT_LANG
    if lang not in LANGS:
        raise ValueError(f"language {lang!r}: expected one of {', '.join(LANGS)}")
    return lang


@dataclass(frozen=True)
class Labels:
    """Look-ups in one language (``zh`` or ``en``)."""

    lang: str = DEFAULT_LANG

    @property
    def _i(self) -> int:
        return 0 if self.lang == "zh" else 1

    def _get(self, table: dict[str, tuple[str, str]], key: object) -> str:
        pair = table.get(str(key))
        return pair[self._i] if pair else str(key)

    def resource(self, kind: str) -> str:
        pair = RESOURCES.get(kind)
        return (pair[0] if self.lang == "zh" else pair[1]) if pair else kind

    def added(self, kind: str) -> str:
        """'新增床位' / 'beds added'."""
        return f"新增{self.resource(kind)}" if self.lang == "zh" else f"{self.resource(kind)} added"

    def counter(self, kind: str) -> str:
        """Counting word after a number of units: 张 (beds), 人 (staff); empty in English."""
        return RESOURCES.get(kind, ("", "", "人"))[2] if self.lang == "zh" else ""

    def value(self, v: object) -> str:
        return self._get(VALUES, v)

    def column(self, name: str) -> str:
        """A column header; KPI columns (referral runs) by their KPI name."""
        return self._get(COLUMNS if name in COLUMNS or name not in KPIS else KPIS, name)

    def table(self, name: str) -> str:
        return self._get(TABLES, name)

    def kpi(self, name: str) -> str:
        return self._get(KPIS, name)

    def family(self, name: str) -> str:
        """A constraint family's name (``hiring_limits`` -> 年度新增上限（培养与建设能力）)."""
        return self._get(FAMILY_NAMES, name)

    def family_words(self, name: str) -> str:
        """A constraint family as a sentence names it (``hiring_limits`` -> the yearly limits on additions ...)."""
        return self._get(FAMILY_WORDS, name)

    def unit_label(self, label: str) -> str:
        """An engine's unit label (``per 1,000``, ``share``) in this language (每千人口; empty for a share)."""
        if label == "share":
            return ""
        key = next((k for k, pair in VALUES.items() if k.startswith("per_") and pair[1] == label), None)
        return self._get(VALUES, key) if key else label

    def stage(self, name: str) -> str:
        return self._get(STAGES, name)

    def method(self, name: str) -> str:
        return self._get(METHODS, name)

    def text(self, key: str, **fields: object) -> str:
        return TEXT[key][self._i].format(**fields)

    def headers(self, name: str, **fields: object) -> list[str]:
        """The column headers of table ``name`` (:data:`HEADERS`), with ``fields`` filled in."""
        return [h.format(**fields) for h in HEADERS[name][self._i]]

    def region(self, region) -> str:
        """A region's name: ``name_cn`` in Chinese, ``name`` in English."""
        return region.name_cn if self.lang == "zh" else region.name

    def plan_mode(self, mode: str, note: str) -> str:
        """How the plan was solved: the mode's name in Chinese, the run's English ``note`` in English."""
        return self.value(mode) if self.lang == "zh" else note

    def family_code(self, name: str) -> str:
        """A constraint family in a list of those also enforced: its code in English (``hiring_limits``), its
        name in Chinese."""
        return self.family(name) if self.lang == "zh" else name

    def money(self, amount: float) -> str:
        """An amount of CNY in a sentence: :meth:`cny` in Chinese, ``CNY 1,234,567`` in English."""
        return self.cny(amount) if self.lang == "zh" else f"CNY {amount:,.0f}"

    def cny(self, amount: float) -> str:
        """An amount of CNY as planners write it: 亿元 from 1亿, else 万元 (zh); CNY million / 100 million (en)."""
        if self.lang == "zh":
            return f"{amount / 1e8:,.2f}亿元" if abs(amount) >= 1e8 else f"{amount / 1e4:,.1f}万元"
        return f"CNY {amount / 1e6:,.1f} million ({amount / 1e8:,.2f}亿元)"
