// permits.js — 作业票 permits (GB 30871-2022): #/permits (list with filters),
// #/permits/new (phone-first application flow) and #/permits/:id (detail: rulebook verdict
// per clause, gas tests, people, signatures with their verification, linked permits, state
// history, the actions the caller's role may take, print, evidence export and check).
import {
  api, t, addStrings, route, h, fmtTime, toast, session, hasRole, go, lang,
} from '../core.js';
import { showProof } from './alarms.js';

addStrings({
  zh: {
    'permits.title': '作业票',
    'permits.new.title': '申请作业票',
    'permits.detail.title': '作业票详情',
    'permits.new': '申请作业票',
    'permits.filter.state': '状态',
    'permits.filter.type': '作业类型',
    'permits.filter.all': '全部',
    'permits.filter.open': '未关闭（已批准/作业中/暂停）',
    'permits.empty': '没有符合条件的作业票。',
    'permits.more': '加载更多',
    'permits.col.number': '编号',
    'permits.col.type': '类型',
    'permits.col.grade': '级别',
    'permits.col.title': '作业内容',
    'permits.col.zone': '区域',
    'permits.col.time': '计划时间',
    'permits.col.state': '状态',
    'permits.err.load': '无法加载作业票：{msg}',
    'permits.notfound': '作业票 {id} 不存在或不属于本单位。',
    'permits.back': '返回作业票列表',
    'state.draft': '编制中',
    'state.pending_gas_test': '待气体分析',
    'state.pending_signatures': '待签批',
    'state.approved': '已批准',
    'state.active': '作业中',
    'state.suspended': '暂停',
    'state.completed': '已完工',
    'state.cancelled': '已取消',
    'state.expired': '已过期',
    'type.hot_work': '动火作业',
    'type.confined_space': '受限空间作业',
    'type.blind_plate': '盲板抽堵作业',
    'type.work_at_height': '高处作业',
    'type.lifting': '吊装作业',
    'type.temporary_power': '临时用电作业',
    'type.excavation': '动土作业',
    'type.road_breaking': '断路作业',
    'grade.none': '不分级',
    'prole.performer': '作业人员',
    'prole.guardian': '监护人',
    'prole.work_leader': '作业负责人',
    'prole.safety_briefer': '安全交底人',
    'prole.briefing_recipient': '接受交底人',
    'prole.commander': '作业指挥',
    'prole.gas_analyst': '分析人',
    'prole.measure_confirmer': '安全措施确认人',
    'verdict.title': '规则校验（GB 30871-2022）',
    'verdict.compliant': '符合',
    'verdict.warnings': '有警告',
    'verdict.blocked': '不符合（禁止）',
    'verdict.block': '禁止',
    'verdict.warn': '警告',
    'verdict.info': '提示',
    'verdict.ok': '通过',
    'verdict.summary': '{blocked} 项禁止、{warn} 项警告、{pending} 项待后续环节校验、{passed} 项通过（规则库 {rulebook}，校验阶段 {stage}，时间 {at}）',
    'verdict.pending': '待后续环节校验（{n} 项）',
    'verdict.passed': '已通过的规则（{n} 项）',
    'verdict.grade': '等级判定：申报 {declared}，规则要求 {required}（{reasons}）',
    'verdict.note.stored': '按当前时刻、当前办理环节对本票内容重新校验；签名的真实性与内容一致性由服务端核验，见“签名”一节；本票自身计入的监护/审批工作量规则不在此重复判断。',
    'verdict.err': '无法校验：{msg}',
    'verdict.stage.plan': '编制',
    'verdict.stage.gas': '气体分析',
    'verdict.stage.approve': '审批',
    'verdict.stage.start': '开始作业',
    'detail.info': '基本信息',
    'detail.site': '装置 / 场所',
    'detail.zone': '区域',
    'detail.location': '作业地点',
    'detail.planned': '计划时间',
    'detail.work_unit': '作业单位',
    'detail.owning_unit': '所在单位',
    'detail.hazard': '危害辨识',
    'detail.created': '创建',
    'detail.version': '版本',
    'detail.stamps': '批准 {approved}；开始 {started}；结束 {ended}',
    'detail.lifecycle': '办理进度',
    'detail.people': '作业人员',
    'detail.people.cert': '证书核验',
    'detail.people.none': '未登记人员。',
    'detail.measures': '安全措施',
    'detail.measures.none': '未登记安全措施。',
    'detail.measure.confirmed': '{who} 于 {at} 确认',
    'detail.measure.unconfirmed': '未确认',
    'detail.measure.na': '不涉及',
    'detail.measure.confirm': '现场确认',
    'detail.measure.done': '已确认安全措施',
    'detail.gas': '气体分析',
    'detail.gas.none': '尚无气体分析记录。',
    'detail.gas.time': '时间',
    'detail.gas.point': '分析点',
    'detail.gas.gas': '气体',
    'detail.gas.value': '读数',
    'detail.gas.analyst': '分析人',
    'detail.gas.instrument': '仪器',
    'detail.signatures': '签名',
    'detail.signatures.none': '尚无签名。',
    'detail.sig.valid': '签名有效',
    'detail.sig.invalid': '签名无效',
    'detail.sig.unknown': '未核验',
    'detail.sig.digest.ok': '当前内容与签署内容一致',
    'detail.sig.digest.bad': '内容摘要不一致',
    'detail.sig.next': '下一签批环节：{step}（{roles}）',
    'detail.sig.done': '签批链已完成',
    'detail.linked': '关联作业票',
    'detail.linked.none': '无关联作业票。',
    'detail.supersedes': '替代作业票',
    'detail.history': '状态记录',
    'detail.history.none': '暂无记录。',
    'detail.history.proof': '证明',
    'detail.actions': '操作',
    'detail.actions.none': '当前状态下您的角色（{role}）没有可执行的操作。',
    'detail.print': '打印作业票',
    'detail.print.pdf': '下载 PDF',
    'detail.evidence.export': '导出证据包',
    'detail.evidence.verify': '核验证据包',
    'detail.evidence.ok': '证据包核验通过',
    'detail.evidence.bad': '证据包核验不通过',
    'detail.evidence.err': '证据包操作失败：{msg}',
    'detail.evidence.saved': '已下载 {file}',
    'detail.evidence.forbidden': '您的角色（{role}）不能导出证据包。可导出的角色：安全管理员、监督人、监管方、管理员。',
    'detail.evidence.summary': '{subject}：{n} 条事实，{bad} 条未通过',
    'detail.evidence.check.origin': '日志来源',
    'detail.evidence.check.checkpoint': '检查点',
    'detail.evidence.check.signature': '检查点签名',
    'detail.evidence.check.facts': '事实包含证明',
    'detail.evidence.check.bundle': '证据包整体',
    'detail.verify.err': '无法核验签名：{msg}',
    'hist.permit.created': '创建',
    'hist.permit.edited': '修改',
    'hist.permit.submitted': '提交',
    'hist.permit.gas_recorded': '记录气体分析',
    'hist.permit.signed': '签字',
    'hist.permit.approved': '批准',
    'hist.permit.activated': '开始作业',
    'hist.permit.suspended': '暂停',
    'hist.permit.resumed': '恢复作业',
    'hist.permit.completed': '完工',
    'hist.permit.cancelled': '取消',
    'hist.permit.expired': '过期',
    'hist.permit.refused': '被规则拒绝',
    'hist.permit.measure_confirmed': '确认安全措施',
    'hist.permit.incident': '记录事件',
    'hist.confined.entered': '进入受限空间',
    'hist.confined.exited': '离开受限空间',
    'act.submit': '提交',
    'act.gas': '记录气体分析',
    'act.sign': '签字',
    'act.activate': '开始作业',
    'act.suspend': '暂停作业',
    'act.resume': '恢复作业',
    'act.complete': '完工',
    'act.cancel': '取消作业票',
    'act.done': '已完成：{action}',
    'act.blocked': '规则禁止此操作，请处理下列问题：',
    'act.err': '操作失败：{msg}',
    'act.err.403': '无权执行：{msg}',
    'act.err.409': '状态冲突：{msg}',
    'act.reason': '原因',
    'act.reason.suspend.ph': '例如：监护人离开、气体超标、天气变化',
    'act.reason.cancel.ph': '例如：计划变更，作业取消',
    'act.note': '完工说明（可选）',
    'act.confirm': '确定',
    'act.back': '返回',
    'gas.title': '记录气体分析',
    'gas.point': '分析点',
    'gas.analyst': '分析人',
    'gas.instrument': '检测仪器',
    'gas.time': '取样时间',
    'gas.include': '记录此项',
    'gas.submit': '提交分析结果',
    'gas.passed': '气体分析合格',
    'gas.failed': '气体分析不合格',
    'gas.err.value': '请输入 {gas} 的读数（不小于 0）',
    'gas.err.none': '至少记录一项读数',
    'gas.err.point': '请填写分析点',
    'sign.title': '签字：{step}',
    'sign.password': '登录密码（用于签名）',
    'sign.opinion': '意见',
    'sign.opinion.default': '同意',
    'sign.submit': '签字确认',
    'sign.err.password': '密码错误，签名未生效。',
    'sign.err.empty': '请输入密码',
    'sign.not_yours': '下一环节“{step}”需由 {roles} 签字。',
    'apply.step': '第 {n}/{total} 步',
    'apply.q.type': '要办理哪种作业？',
    'apply.q.site': '在哪个装置 / 场所？',
    'apply.q.zone': '哪个区域？',
    'apply.q.what': '作业内容',
    'apply.q.people': '作业人员',
    'apply.q.time': '计划时间',
    'apply.q.review': '规则校验',
    'apply.next': '下一步',
    'apply.prev': '上一步',
    'apply.submit': '创建并提交',
    'apply.submit.busy': '正在提交…',
    'apply.restart': '重新填写',
    'apply.draft': '先保存为草稿（暂不提交）',
    'apply.title': '作业内容',
    'apply.grade': '作业级别',
    'apply.grade.suggest': '规则要求 {grade}，点此采用',
    'apply.desc': '具体位置',
    'apply.hazard': '危害辨识',
    'apply.performer': '作业人员工号',
    'apply.performer.ph': '如 JX-001',
    'apply.performer.cert': '作业人员工号（核验特种作业操作证）',
    'apply.guardian': '监护人（用户名）',
    'apply.analyst': '分析人工号',
    'apply.certified': '{role}工号（需持证）',
    'apply.leader': '作业负责人（用户名）',
    'apply.start': '开始',
    'apply.end': '结束',
    'apply.hours': '时长 {n} 小时（{grade}最长 {max}）',
    'apply.cert.checking': '正在核验证书…',
    'apply.cert.ok': '{name}：证书有效（{number}，有效期至 {expiry}）',
    'apply.cert.bad': '{name}：{verdict}，不能从事此作业',
    'apply.cert.unknown': '工号 {code} 未登记',
    'apply.cert.nocheck': '{name}：此作业类型不要求特种作业操作证',
    'apply.err.required': '请填写此项',
    'apply.err.worker': '请填写已登记的工号',
    'apply.err.time': '结束时间必须晚于开始时间',
    'apply.checking': '正在按规则库校验…',
    'apply.blocked': '有 {n} 项禁止：请返回修改，或先保存为草稿。',
    'apply.ok': '校验通过，可以提交。',
    'apply.created': '已创建作业票 {number}',
    'apply.submitted': '作业票 {number} 已提交',
    'apply.submit.blocked': '作业票 {number} 已创建为草稿，但提交被规则禁止：',
    'apply.zone.none': '该场所没有登记区域，请输入区域代码',
    'apply.zone.code': '区域代码',
    'apply.gas.note': '需气体分析的作业，提交后在详情页记录分析结果。',
    'cert.valid': '有效',
    'cert.expiring_soon': '即将到期',
    'cert.review_due': '待复审',
    'cert.review_overdue': '逾期未复审',
    'cert.not_yet_valid': '尚未生效',
    'cert.expired': '已过期',
    'cert.revoked': '已吊销',
    'cert.wrong_category': '证书类别不符',
    'cert.worker_inactive': '人员已停用',
    'cert.id_mismatch': '身份证不符',
    'cert.unknown_worker': '人员未登记',
  },
  en: {
    'permits.title': 'Permits',
    'permits.new.title': 'Apply for a permit',
    'permits.detail.title': 'Permit',
    'permits.new': 'Apply for a permit',
    'permits.filter.state': 'State',
    'permits.filter.type': 'Type',
    'permits.filter.all': 'All',
    'permits.filter.open': 'Open (approved / active / suspended)',
    'permits.empty': 'No permits match.',
    'permits.more': 'Load more',
    'permits.col.number': 'Number',
    'permits.col.type': 'Type',
    'permits.col.grade': 'Grade',
    'permits.col.title': 'Work',
    'permits.col.zone': 'Zone',
    'permits.col.time': 'Planned',
    'permits.col.state': 'State',
    'permits.err.load': 'Cannot load permits: {msg}',
    'permits.notfound': 'Permit {id} does not exist or belongs to another organization.',
    'permits.back': 'Back to the permits',
    'state.draft': 'Draft (编制中)',
    'state.pending_gas_test': 'Awaiting gas test (待气体分析)',
    'state.pending_signatures': 'Awaiting signatures (待签批)',
    'state.approved': 'Approved (已批准)',
    'state.active': 'Active (作业中)',
    'state.suspended': 'Suspended (暂停)',
    'state.completed': 'Completed (已完工)',
    'state.cancelled': 'Cancelled (已取消)',
    'state.expired': 'Expired (已过期)',
    'type.hot_work': '动火作业 hot work',
    'type.confined_space': '受限空间作业 confined space entry',
    'type.blind_plate': '盲板抽堵作业 blind plate',
    'type.work_at_height': '高处作业 work at height',
    'type.lifting': '吊装作业 lifting',
    'type.temporary_power': '临时用电作业 temporary power',
    'type.excavation': '动土作业 excavation',
    'type.road_breaking': '断路作业 road breaking',
    'grade.none': 'ungraded',
    'prole.performer': 'Performer (作业人员)',
    'prole.guardian': 'Guardian (监护人)',
    'prole.work_leader': 'Work leader (作业负责人)',
    'prole.safety_briefer': 'Safety briefer (安全交底人)',
    'prole.briefing_recipient': 'Briefing recipient (接受交底人)',
    'prole.commander': 'Commander (作业指挥)',
    'prole.gas_analyst': 'Gas analyst (分析人)',
    'prole.measure_confirmer': 'Measure confirmer (安全措施确认人)',
    'verdict.title': 'Rulebook check (GB 30871-2022)',
    'verdict.compliant': 'Compliant',
    'verdict.warnings': 'Warnings',
    'verdict.blocked': 'Blocked',
    'verdict.block': 'Blocked',
    'verdict.warn': 'Warning',
    'verdict.info': 'Info',
    'verdict.ok': 'Passed',
    'verdict.summary': '{blocked} blocked, {warn} warnings, {pending} checked at later stages, {passed} passed (rulebook {rulebook}, stage {stage}, at {at})',
    'verdict.pending': 'Checked at later stages ({n})',
    'verdict.passed': 'Rules passed ({n})',
    'verdict.grade': 'Grade: declared {declared}, the rules require {required} ({reasons})',
    'verdict.note.stored': 'The permit re-checked now for its current stage; signature authenticity and content are verified by the server (Signatures section); workload rules that would count this permit itself are not repeated here.',
    'verdict.err': 'Cannot check: {msg}',
    'verdict.stage.plan': 'planning',
    'verdict.stage.gas': 'gas test',
    'verdict.stage.approve': 'approval',
    'verdict.stage.start': 'start of work',
    'detail.info': 'Details',
    'detail.site': 'Site',
    'detail.zone': 'Zone',
    'detail.location': 'Location',
    'detail.planned': 'Planned',
    'detail.work_unit': 'Work unit',
    'detail.owning_unit': 'Owning unit',
    'detail.hazard': 'Hazard analysis',
    'detail.created': 'Created',
    'detail.version': 'Version',
    'detail.stamps': 'approved {approved}; started {started}; ended {ended}',
    'detail.lifecycle': 'Lifecycle',
    'detail.people': 'People',
    'detail.people.cert': 'Certificate check',
    'detail.people.none': 'No people listed.',
    'detail.measures': 'Safety measures',
    'detail.measures.none': 'No safety measures listed.',
    'detail.measure.confirmed': 'confirmed by {who} at {at}',
    'detail.measure.unconfirmed': 'not confirmed',
    'detail.measure.na': 'not involved',
    'detail.measure.confirm': 'Confirm on site',
    'detail.measure.done': 'Measure confirmed',
    'detail.gas': 'Gas tests',
    'detail.gas.none': 'No gas tests yet.',
    'detail.gas.time': 'Time',
    'detail.gas.point': 'Point',
    'detail.gas.gas': 'Gas',
    'detail.gas.value': 'Reading',
    'detail.gas.analyst': 'Analyst',
    'detail.gas.instrument': 'Instrument',
    'detail.signatures': 'Signatures',
    'detail.signatures.none': 'No signatures yet.',
    'detail.sig.valid': 'valid signature',
    'detail.sig.invalid': 'INVALID signature',
    'detail.sig.unknown': 'not verified',
    'detail.sig.digest.ok': 'the content matches what was signed',
    'detail.sig.digest.bad': 'content digest mismatch',
    'detail.sig.next': 'Next step: {step} ({roles})',
    'detail.sig.done': 'Signature chain complete',
    'detail.linked': 'Linked permits',
    'detail.linked.none': 'No linked permits.',
    'detail.supersedes': 'Supersedes',
    'detail.history': 'History',
    'detail.history.none': 'No history.',
    'detail.history.proof': 'Proof',
    'detail.actions': 'Actions',
    'detail.actions.none': 'Your role ({role}) has no action in this state.',
    'detail.print': 'Print permit',
    'detail.print.pdf': 'Download PDF',
    'detail.evidence.export': 'Export evidence bundle',
    'detail.evidence.verify': 'Verify evidence bundle',
    'detail.evidence.ok': 'Evidence bundle verified',
    'detail.evidence.bad': 'Evidence bundle does NOT verify',
    'detail.evidence.err': 'Evidence bundle failed: {msg}',
    'detail.evidence.saved': 'Downloaded {file}',
    'detail.evidence.forbidden': 'Your role ({role}) may not export evidence bundles. Roles that may: safety manager, supervisor, regulator, administrator.',
    'detail.evidence.summary': '{subject}: {n} facts, {bad} failed',
    'detail.evidence.check.origin': 'Log origin',
    'detail.evidence.check.checkpoint': 'Checkpoint',
    'detail.evidence.check.signature': 'Checkpoint signature',
    'detail.evidence.check.facts': 'Fact inclusion proofs',
    'detail.evidence.check.bundle': 'Bundle as a whole',
    'detail.verify.err': 'Cannot verify the signatures: {msg}',
    'hist.permit.created': 'Created',
    'hist.permit.edited': 'Edited',
    'hist.permit.submitted': 'Submitted',
    'hist.permit.gas_recorded': 'Gas test recorded',
    'hist.permit.signed': 'Signed',
    'hist.permit.approved': 'Approved',
    'hist.permit.activated': 'Work started',
    'hist.permit.suspended': 'Suspended',
    'hist.permit.resumed': 'Resumed',
    'hist.permit.completed': 'Completed',
    'hist.permit.cancelled': 'Cancelled',
    'hist.permit.expired': 'Expired',
    'hist.permit.refused': 'Refused by the rules',
    'hist.permit.measure_confirmed': 'Measure confirmed',
    'hist.permit.incident': 'Incident recorded',
    'hist.confined.entered': 'Entered the confined space',
    'hist.confined.exited': 'Left the confined space',
    'act.submit': 'Submit',
    'act.gas': 'Record gas test',
    'act.sign': 'Sign',
    'act.activate': 'Start work',
    'act.suspend': 'Suspend work',
    'act.resume': 'Resume work',
    'act.complete': 'Complete',
    'act.cancel': 'Cancel permit',
    'act.done': 'Done: {action}',
    'act.blocked': 'The rules block this action; resolve these first:',
    'act.err': 'Action failed: {msg}',
    'act.err.403': 'Not allowed: {msg}',
    'act.err.409': 'State conflict: {msg}',
    'act.reason': 'Reason',
    'act.reason.suspend.ph': 'e.g. guardian left, gas over the limit, weather',
    'act.reason.cancel.ph': 'e.g. plan changed, work cancelled',
    'act.note': 'Completion note (optional)',
    'act.confirm': 'Confirm',
    'act.back': 'Back',
    'gas.title': 'Record gas test',
    'gas.point': 'Sampling point',
    'gas.analyst': 'Analyst',
    'gas.instrument': 'Instrument',
    'gas.time': 'Sampled at',
    'gas.include': 'Record',
    'gas.submit': 'Submit readings',
    'gas.passed': 'Gas test passed',
    'gas.failed': 'Gas test FAILED',
    'gas.err.value': 'Enter the {gas} reading (0 or more)',
    'gas.err.none': 'Record at least one reading',
    'gas.err.point': 'Enter the sampling point',
    'sign.title': 'Sign: {step}',
    'sign.password': 'Your password (to sign)',
    'sign.opinion': 'Opinion',
    'sign.opinion.default': '同意',
    'sign.submit': 'Sign',
    'sign.err.password': 'Wrong password; nothing was signed.',
    'sign.err.empty': 'Enter your password',
    'sign.not_yours': 'The next step "{step}" is signed by {roles}.',
    'apply.step': 'Step {n} of {total}',
    'apply.q.type': 'What kind of work?',
    'apply.q.site': 'Which site?',
    'apply.q.zone': 'Which zone?',
    'apply.q.what': 'The work',
    'apply.q.people': 'People',
    'apply.q.time': 'When',
    'apply.q.review': 'Rulebook check',
    'apply.next': 'Next',
    'apply.prev': 'Back',
    'apply.submit': 'Create and submit',
    'apply.submit.busy': 'Submitting…',
    'apply.restart': 'Start over',
    'apply.draft': 'Save as a draft (do not submit yet)',
    'apply.title': 'Work (作业内容)',
    'apply.grade': 'Grade',
    'apply.grade.suggest': 'The rules require {grade}; tap to use it',
    'apply.desc': 'Exact place',
    'apply.hazard': 'Hazard analysis',
    'apply.performer': 'Performer worker code',
    'apply.performer.ph': 'e.g. JX-001',
    'apply.performer.cert': 'Performer worker code (operator certificate checked)',
    'apply.guardian': 'Guardian (username)',
    'apply.analyst': 'Gas analyst worker code',
    'apply.certified': '{role} worker code (certificate required)',
    'apply.leader': 'Work leader (username)',
    'apply.start': 'Start',
    'apply.end': 'End',
    'apply.hours': '{n} h (at most {max} for {grade})',
    'apply.cert.checking': 'Checking the certificate…',
    'apply.cert.ok': '{name}: certificate valid ({number}, until {expiry})',
    'apply.cert.bad': '{name}: {verdict}; may not do this work',
    'apply.cert.unknown': 'Worker code {code} is not registered',
    'apply.cert.nocheck': '{name}: no operator certificate required for this work',
    'apply.err.required': 'Required',
    'apply.err.worker': 'Enter a registered worker code',
    'apply.err.time': 'The end must be after the start',
    'apply.checking': 'Checking against the rulebook…',
    'apply.blocked': '{n} blocking issue(s): go back and fix them, or save a draft.',
    'apply.ok': 'The check passes; you can submit.',
    'apply.created': 'Permit {number} created',
    'apply.submitted': 'Permit {number} submitted',
    'apply.submit.blocked': 'Permit {number} was created as a draft, but the rules block submitting it:',
    'apply.zone.none': 'This site has no zones on record; enter the zone code',
    'apply.zone.code': 'Zone code',
    'apply.gas.note': 'Gas tests are recorded on the permit page after submitting.',
    'cert.valid': 'valid',
    'cert.expiring_soon': 'expiring soon',
    'cert.review_due': 'review due',
    'cert.review_overdue': 'review overdue',
    'cert.not_yet_valid': 'not yet valid',
    'cert.expired': 'expired',
    'cert.revoked': 'revoked',
    'cert.wrong_category': 'wrong category',
    'cert.worker_inactive': 'worker inactive',
    'cert.id_mismatch': 'ID mismatch',
    'cert.unknown_worker': 'unknown worker',
  },
});

const TYPES = ['hot_work', 'confined_space', 'blind_plate', 'work_at_height', 'lifting', 'temporary_power', 'excavation', 'road_breaking'];
const STATES = ['draft', 'pending_gas_test', 'pending_signatures', 'approved', 'active', 'suspended', 'completed', 'cancelled', 'expired'];
const TERMINAL = ['completed', 'cancelled', 'expired'];
const SECTION = { work_at_height: 'height' };
const SERVICE_FIELDS = ['id', 'number', 'org', 'state', 'version', 'approved_at', 'started_at', 'last_suspended_at', 'ended_at', 'created_by', 'created_at', 'updated_at'];

// Roles of docs/api.md per action.
const R = {
  authors: ['team_leader', 'safety_manager', 'admin'],
  gas: ['guardian', 'team_leader', 'safety_manager', 'admin'],
  signers: ['guardian', 'team_leader', 'approver', 'safety_manager', 'supervisor', 'admin'],
  cancel: ['team_leader', 'approver', 'safety_manager', 'admin'],
};

const tx = (key, fallback) => {
  const s = t(key);
  return s === key ? (fallback ?? key) : s;
};
const typeName = (code) => tx(`type.${code}`, code);
const stateName = (code) => tx(`state.${code}`, code);
const proleName = (code) => tx(`prole.${code}`, code);
const roleName = (code) => tx(`role.${code}`, code);

let rulebookPromise = null;
function rulebook() {
  if (!rulebookPromise) {
    rulebookPromise = api('GET', '/api/v1/permits/rulebook').catch((e) => {
      rulebookPromise = null;
      throw e;
    });
  }
  return rulebookPromise;
}
const typeInfo = (rb, type) => (rb && rb.types ? rb.types.find((x) => x.type === type) : null);

function gradeName(rb, type, grade) {
  if (!grade) return t('grade.none');
  const ti = typeInfo(rb, type);
  const g = ti && ti.grades ? ti.grades.find((x) => x.code === grade) : null;
  return g && g.name_zh ? g.name_zh : grade;
}

function stateBadge(state, testid) {
  return h('span', { class: ['permit-state', `st-${state}`], 'data-state': state, 'data-testid': testid || null, text: stateName(state) });
}

function apiErrorText(e) {
  if (!e) return '';
  if (e.status === 403) return t('act.err.403', { msg: e.message });
  if (e.status === 409) return t('act.err.409', { msg: e.message });
  return t('act.err', { msg: e.field ? `${e.field}: ${e.message}` : e.message });
}

// ---------------------------------------------------------------------------
// Verdict per clause (shared by the detail and the application flow)
// ---------------------------------------------------------------------------

function sevRank(s) {
  return s === 'block' ? 0 : s === 'warn' || s === 'warning' ? 1 : 2;
}

// decision: the API's {verdict, violations, pending, skipped, grade, rulebook, stage, at}.
function renderVerdict(decision, { rb, type, grade, testid = 'permit-verdict', note } = {}) {
  const zh = lang() === 'zh';
  const vs = [...(decision.violations || [])].sort((a, b) => sevRank(a.severity) - sevRank(b.severity));
  const pending = decision.pending || [];
  const skipped = decision.skipped || [];
  const failed = new Set(vs.map((v) => v.rule));
  const rules = (rb && rb.rules) || [];
  const ruleById = new Map(rules.map((r) => [r.id, r]));
  const applicable = rules.filter((r) => (!r.types || !r.types.length || r.types.includes(type)) &&
    (!r.grades || !r.grades.length || r.grades.includes(grade)));
  const passed = applicable.filter((r) => !failed.has(r.id) && !pending.includes(r.id) && !skipped.includes(r.id));
  const blocked = vs.filter((v) => v.severity === 'block').length;
  const warns = vs.length - blocked;
  const item = (v) => h('li', {
    class: ['verdict-item', `sev-${v.severity}`], 'data-testid': 'verdict-item', 'data-rule': v.rule, 'data-ok': '0',
    'data-severity': v.severity, 'data-field': v.field || null,
  },
  h('span', { class: 'sev', text: tx(`verdict.${v.severity}`, v.severity) }),
  h('div', { class: 'verdict-body' },
    h('p', { class: 'verdict-msg', text: (zh ? v.message_zh : v.message) || v.message_zh || v.message }),
    h('p', { class: 'verdict-ref' },
      h('span', { class: 'clause', text: v.clause || ruleById.get(v.rule)?.clause || '' }),
      ' · ', h('code', { text: v.rule }),
      v.field ? [' · ', h('code', { class: 'field', text: v.field })] : null)));
  const g = decision.grade;
  const box = h('section', { class: ['verdict', `verdict-${decision.verdict}`], 'data-testid': testid, 'data-verdict': decision.verdict },
    h('header', { class: 'verdict-head' },
      h('span', { class: ['verdict-badge', `vb-${decision.verdict}`], text: tx(`verdict.${decision.verdict}`, decision.verdict) }),
      h('span', { class: 'verdict-summary', text: t('verdict.summary', {
        blocked, warn: warns, pending: pending.length, passed: passed.length,
        rulebook: decision.rulebook || '—', stage: tx(`verdict.stage.${decision.stage}`, decision.stage || '—'), at: fmtTime(decision.at),
      }) })),
    note ? h('p', { class: 'muted verdict-note', text: note }) : null,
    g && g.required ? h('p', { class: ['verdict-grade', g.required !== grade ? 'grade-up' : null], 'data-testid': 'verdict-grade', 'data-required': g.required },
      t('verdict.grade', { declared: gradeName(rb, type, grade), required: gradeName(rb, type, g.required), reasons: (g.reasons || []).join('、') || '—' })) : null,
    vs.length ? h('ol', { class: 'verdict-list' }, vs.map(item)) : null,
    pending.length ? h('details', { class: 'verdict-pending' },
      h('summary', { text: t('verdict.pending', { n: pending.length }) }),
      h('ul', null, pending.map((id) => h('li', { 'data-testid': 'verdict-pending', 'data-rule': id },
        h('code', { text: id }), ' ', h('span', { class: 'clause', text: ruleById.get(id)?.clause || '' }))))) : null,
    passed.length ? h('details', { class: 'verdict-passed' },
      h('summary', { text: t('verdict.passed', { n: passed.length }) }),
      h('ul', null, passed.map((r) => h('li', { class: 'verdict-item sev-ok', 'data-testid': 'verdict-item', 'data-rule': r.id, 'data-ok': '1' },
        h('span', { class: 'sev', text: t('verdict.ok') }),
        h('div', { class: 'verdict-body' },
          h('p', { class: 'verdict-ref' }, h('span', { class: 'clause', text: r.clause || '' }), ' · ', h('code', { text: r.id }))))))) : null);
  return box;
}

function clientDocument(p, { keepSignatures = true } = {}) {
  const d = JSON.parse(JSON.stringify(p));
  for (const k of SERVICE_FIELDS) delete d[k];
  if (!keepSignatures) delete d.signatures;
  return d;
}

// ---------------------------------------------------------------------------
// #/permits — list
// ---------------------------------------------------------------------------

async function renderList(container, params, query) {
  const rb = await rulebook().catch(() => null);
  const stateSel = h('select', { id: 'pf-state', 'data-testid': 'permit-filter-state' },
    h('option', { value: '', text: t('permits.filter.all') }),
    h('option', { value: 'approved,active,suspended', text: t('permits.filter.open') }),
    STATES.map((s) => h('option', { value: s, text: stateName(s) })));
  const typeSel = h('select', { id: 'pf-type', 'data-testid': 'permit-filter-type' },
    h('option', { value: '', text: t('permits.filter.all') }),
    TYPES.map((s) => h('option', { value: s, text: typeName(s) })));
  stateSel.value = query.state || '';
  typeSel.value = query.type || '';
  const body = h('div', { class: 'permit-list', role: 'list', 'data-testid': 'permit-list' });
  const status = h('p', { class: 'muted', 'data-testid': 'permits-status', text: t('common.loading') });
  const more = h('button', { type: 'button', class: 'btn', hidden: true, text: t('permits.more') });
  let before = null;

  const canApply = hasRole(R.authors);
  container.appendChild(h('section', { class: 'permits-page' },
    h('div', { class: 'page-head' },
      h('h1', { text: t('permits.title') }),
      canApply ? h('a', { class: 'btn btn-primary big new-permit', href: '#/permits/new', 'data-testid': 'new-permit', text: `＋ ${t('permits.new')}` }) : null),
    h('div', { class: 'permit-filters' },
      h('div', { class: 'field' }, h('label', { for: 'pf-state', text: t('permits.filter.state') }), stateSel),
      h('div', { class: 'field' }, h('label', { for: 'pf-type', text: t('permits.filter.type') }), typeSel)),
    status, body, more));

  function row(p) {
    return h('a', {
      class: ['permit-row', `st-${p.state}`], role: 'listitem', href: `#/permits/${p.id}`,
      'data-testid': `permit-row-${p.number}`, 'data-state': p.state, 'data-type': p.type, 'data-id': p.id,
    },
    h('span', { class: 'pr-number mono', text: p.number }),
    h('span', { class: 'pr-type', text: typeName(p.type) }),
    h('span', { class: 'pr-grade', text: p.grade ? gradeName(rb, p.type, p.grade) : '' }),
    h('span', { class: 'pr-title', text: p.title }),
    h('span', { class: 'pr-zone', text: [p.site, p.zone].filter(Boolean).join(' · ') }),
    h('span', { class: 'pr-time', text: `${fmtTime(p.planned_start)} – ${fmtTime(p.planned_end)}` }),
    stateBadge(p.state));
  }

  async function load(append) {
    const q = new URLSearchParams();
    if (stateSel.value) q.set('state', stateSel.value);
    if (typeSel.value) q.set('type', typeSel.value);
    q.set('limit', '100');
    if (append && before) q.set('before', before);
    status.hidden = false;
    status.textContent = t('common.loading');
    try {
      const res = await api('GET', `/api/v1/permits?${q}`);
      if (!append) body.replaceChildren();
      for (const p of res.permits || []) body.appendChild(row(p));
      before = res.next_before || null;
      more.hidden = !before;
      status.hidden = body.children.length > 0;
      status.textContent = body.children.length ? '' : t('permits.empty');
    } catch (e) {
      status.textContent = t('permits.err.load', { msg: e.message });
    }
  }
  const onFilter = () => {
    const q = new URLSearchParams();
    if (stateSel.value) q.set('state', stateSel.value);
    if (typeSel.value) q.set('type', typeSel.value);
    const hash = `#/permits${q.toString() ? `?${q}` : ''}`;
    history.replaceState(null, '', hash);
    load(false);
  };
  stateSel.addEventListener('change', onFilter);
  typeSel.addEventListener('change', onFilter);
  more.addEventListener('click', () => load(true));
  await load(false);
}

// ---------------------------------------------------------------------------
// #/permits/:id — detail
// ---------------------------------------------------------------------------

function downloadBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

function fmtNum(v) {
  const n = Number(v);
  return Number.isFinite(n) ? String(Math.round(n * 1000) / 1000) : String(v ?? '—');
}

// Shanghai wall time <-> <input type=datetime-local> value.
function toLocalInput(ms) {
  const d = new Date(ms + 8 * 3600e3);
  return d.toISOString().slice(0, 16);
}
function fromLocalInput(v) {
  if (!v) return NaN;
  return Date.parse(`${v}:00+08:00`);
}
const isoShanghai = (ms) => `${toLocalInput(ms)}:00+08:00`;

async function findPermitId(param) {
  if (/^\d+$/.test(param)) return param;
  // A permit number (links from alarms): look it up in the list.
  let before = null;
  for (let i = 0; i < 20; i++) {
    const res = await api('GET', `/api/v1/permits?limit=1000${before ? `&before=${before}` : ''}`);
    const hit = (res.permits || []).find((p) => p.number === param);
    if (hit) return String(hit.id);
    if (!res.next_before) break;
    before = res.next_before;
  }
  return null;
}

async function renderDetail(container, params) {
  const id = await findPermitId(params.id).catch(() => null);
  const root = h('section', { class: 'permit-detail-page' });
  container.appendChild(root);
  if (!id) {
    root.append(h('p', null, h('a', { class: 'btn', href: '#/permits', text: `← ${t('permits.back')}` })),
      h('p', { class: 'error', role: 'alert', 'data-testid': 'permit-error', text: t('permits.notfound', { id: params.id }) }));
    return;
  }
  let p;
  try {
    p = (await api('GET', `/api/v1/permits/${id}`)).permit;
  } catch (e) {
    root.append(h('p', null, h('a', { class: 'btn', href: '#/permits', text: `← ${t('permits.back')}` })),
      h('p', { class: 'error', role: 'alert', 'data-testid': 'permit-error', text: e.status === 404 ? t('permits.notfound', { id: params.id }) : t('permits.err.load', { msg: e.message }) }));
    return;
  }
  const rb = await rulebook().catch(() => null);
  const ti = typeInfo(rb, p.type);
  const siteNames = new Map();
  try {
    for (const x of (await api('GET', '/api/v1/sites')).sites || []) siteNames.set(x.code, x.name);
  } catch { /* codes only */ }
  let bundle = null;
  let lastDecision = null;

  async function reload(decision) {
    p = (await api('GET', `/api/v1/permits/${id}`)).permit;
    if (decision !== undefined) lastDecision = decision;
    draw();
  }

  function nextStep() {
    const chain = (ti && ti.signature_chain) || [];
    const signed = new Set((p.signatures || []).map((s) => s.role));
    return chain.find((s) => !signed.has(s.role)) || null;
  }

  // ---- sections ----
  function infoSection() {
    const loc = p.location || {};
    const kv = (k, v) => [h('dt', { text: t(k) }), h('dd', { text: v || '—' })];
    return h('section', { class: 'card permit-info' },
      h('h2', { text: t('detail.info') }),
      h('dl', { class: 'pk-kv' },
        kv('detail.site', siteNames.get(p.site) ? `${siteNames.get(p.site)}（${p.site}）` : p.site),
        kv('detail.zone', loc.zone),
        kv('detail.location', loc.description),
        kv('detail.planned', `${fmtTime(p.planned_start)} – ${fmtTime(p.planned_end)}`),
        kv('detail.work_unit', p.work_unit),
        kv('detail.owning_unit', p.owning_unit),
        kv('detail.hazard', p.hazard_analysis),
        kv('detail.created', `${p.created_by || ''} ${fmtTime(p.created_at)}`),
        kv('detail.version', String(p.version)),
        p.approved_at || p.started_at || p.ended_at
          ? kv('detail.lifecycle', t('detail.stamps', { approved: fmtTime(p.approved_at), started: fmtTime(p.started_at), ended: fmtTime(p.ended_at) }))
          : null));
  }

  function verdictSection() {
    const box = h('section', { class: 'card permit-verdict-card' }, h('h2', { text: t('verdict.title') }),
      h('p', { class: 'muted', text: t('common.loading') }));
    const draftLike = p.state === 'draft';
    const stage = { pending_gas_test: 'gas', pending_signatures: 'approve', approved: 'start', active: 'start', suspended: 'start' }[p.state] || 'auto';
    const show = (d, note) => box.replaceChildren(h('h2', { text: t('verdict.title') }),
      renderVerdict(d, { rb, type: p.type, grade: p.grade, note }));
    // A stored permit is re-checked as a client document: the service-owned members
    // (number, org, created_*) are signed but cannot be sent, and an open permit counts
    // itself in the workload rules. Those rules are left to the server (signatures: the
    // verification below), never shown as false violations.
    const serverOnly = new Set(['general.signature_content', 'general.signature_authentic']);
    if (['approved', 'active', 'suspended'].includes(p.state)) {
      serverOnly.add('general.guardian_workload');
      serverOnly.add('general.approver_workload');
    }
    const adjust = (d) => {
      if (draftLike) return d;
      const vs = (d.violations || []).filter((v) => !serverOnly.has(v.rule));
      const blocked = vs.some((v) => v.severity === 'block');
      return { ...d, violations: vs, verdict: blocked ? 'blocked' : vs.length ? 'warnings' : 'compliant',
        pending: [...new Set([...(d.pending || []), ...serverOnly])] };
    };
    if (lastDecision) {
      show(lastDecision);
    } else {
      api('POST', `/api/v1/permits/check${draftLike ? '' : `?stage=${stage}`}`, clientDocument(p))
        .then((d) => show(adjust(d), draftLike ? null : t('verdict.note.stored')))
        .catch((e) => box.replaceChildren(h('h2', { text: t('verdict.title') }),
          h('p', { class: 'error', 'data-testid': 'permit-verdict', 'data-verdict': 'error', text: t('verdict.err', { msg: e.message }) })));
    }
    return box;
  }

  function peopleSection() {
    const people = p.people || [];
    const list = h('ul', { class: 'people-list', 'data-testid': 'permit-people' }, people.map((x) => {
      const op = ((ti && ti.people) || []).find((r) => r.role === x.role && r.operation);
      const cert = h('span', { class: 'cert-check' });
      if (x.worker_code && op) verifyWorkerCode(x.worker_code, op.operation).then((v) => cert.replaceChildren(certLine(v, x.worker_code)));
      return h('li', { 'data-testid': 'permit-person', 'data-role': x.role },
        h('span', { class: 'prole', text: proleName(x.role) }),
        h('strong', { text: x.name || x.username || x.worker_code }),
        h('span', { class: 'muted mono', text: x.worker_code || x.username || '' }),
        (x.certificate_numbers || []).length ? h('span', { class: 'muted', text: x.certificate_numbers.join('、') }) : null,
        cert);
    }));
    return h('section', { class: 'card permit-people' }, h('h2', { text: t('detail.people') }),
      people.length ? list : h('p', { class: 'muted', text: t('detail.people.none') }));
  }

  function measuresSection() {
    const ms = p.measures || [];
    const canConfirm = ['draft', 'pending_gas_test', 'pending_signatures'].includes(p.state) &&
      !(p.signatures || []).length && hasRole(R.signers);
    return h('section', { class: 'card permit-measures' }, h('h2', { text: t('detail.measures') }),
      ms.length ? h('ul', { class: 'measure-list' }, ms.map((m) => h('li', { 'data-testid': 'permit-measure', 'data-code': m.code },
        h('span', { class: 'mono muted', text: m.code }), ' ', h('span', { text: m.text }), ' ',
        m.involved === false ? h('em', { class: 'muted', text: t('detail.measure.na') })
          : m.confirmed_at ? h('span', { class: 'ok', text: `✓ ${t('detail.measure.confirmed', { who: m.confirmer, at: fmtTime(m.confirmed_at) })}` })
            : [h('span', { class: 'warn', text: t('detail.measure.unconfirmed') }),
              canConfirm ? h('button', { type: 'button', class: 'btn', 'data-testid': `measure-confirm-${m.code}`, text: t('detail.measure.confirm'),
                onclick: async (ev) => {
                  ev.target.disabled = true;
                  try {
                    const res = await api('POST', `/api/v1/permits/${id}/measures/confirm`, { measure: m.code });
                    toast(t('detail.measure.done'), 'ok');
                    await reload(res.decision);
                  } catch (e) {
                    ev.target.disabled = false;
                    toast(apiErrorText(e), 'error');
                  }
                } }) : null]))) : h('p', { class: 'muted', text: t('detail.measures.none') }));
  }

  function gasSection() {
    const gs = [...(p.gas || [])].sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
    return h('section', { class: 'card permit-gas' }, h('h2', { text: t('detail.gas') }),
      gs.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'gas-table', 'data-testid': 'permit-gas' },
        h('thead', null, h('tr', null, ['time', 'point', 'gas', 'value', 'analyst', 'instrument'].map((k) => h('th', { text: t(`detail.gas.${k}`) })))),
        h('tbody', null, gs.map((g) => h('tr', { 'data-testid': 'gas-row', 'data-gas': g.gas },
          h('td', { class: 'gt-time', text: fmtTime(g.time) }), h('td', { class: 'gt-point', text: g.point }), h('td', { class: 'gt-gas', text: g.gas }),
          h('td', { class: 'num gt-value', text: `${fmtNum(g.value)} ${g.unit}` }),
          h('td', { class: 'gt-analyst', 'data-label': t('detail.gas.analyst'), text: g.analyst || '—' }),
          h('td', { class: 'gt-instrument', 'data-label': t('detail.gas.instrument'), text: g.instrument || '—' }))))))
        : h('p', { class: 'muted', text: t('detail.gas.none') }));
  }

  function signaturesSection() {
    const sigs = p.signatures || [];
    const chain = (ti && ti.signature_chain) || [];
    const stepName = (role) => chain.find((s) => s.role === role)?.name_zh || role;
    const digestLine = h('p', { class: 'sig-digest', 'data-testid': 'sig-digest' });
    const items = sigs.map((s) => {
      const st = h('span', { class: 'sig-status', 'data-testid': 'sig-status', 'data-valid': '', text: t('detail.sig.unknown') });
      return { s, st, li: h('li', { 'data-testid': 'permit-signature', 'data-role': s.role },
        h('span', { class: 'sig-step', text: stepName(s.role) }),
        h('strong', { text: s.username }),
        h('span', { class: 'muted', text: fmtTime(s.signed_at) }),
        s.opinion ? h('q', { text: s.opinion }) : null,
        h('span', { class: 'muted mono', text: s.key_id }),
        st) };
    });
    if (sigs.length) {
      api('GET', `/api/v1/me`).then((me) => {
        const org = me.organization?.code || '';
        return api('GET', `/api/v1/permits/verify?org=${encodeURIComponent(org)}&n=${encodeURIComponent(p.number)}&format=json`);
      }).then((v) => {
        const by = new Map((v.signatures || []).map((x) => [`${x.role}/${x.key_id}/${x.signed_at}`, x]));
        for (const it of items) {
          const r = by.get(`${it.s.role}/${it.s.key_id}/${it.s.signed_at}`) || (v.signatures || []).find((x) => x.role === it.s.role);
          const ok = r ? r.valid === true : null;
          it.st.dataset.valid = ok === null ? '' : ok ? '1' : '0';
          it.st.textContent = ok === null ? t('detail.sig.unknown') : ok ? `✓ ${t('detail.sig.valid')}` : `✗ ${t('detail.sig.invalid')}`;
          it.st.className = `sig-status ${ok ? 'ok' : ok === false ? 'bad' : ''}`;
        }
        digestLine.dataset.valid = v.signatures_valid ? '1' : '0';
        digestLine.textContent = `${v.signatures_valid ? '✓' : '✗'} ${v.signatures_valid ? t('detail.sig.valid') : t('detail.sig.invalid')} · SM3 ${String(v.content_digest || '').slice(0, 16)}…`;
      }).catch((e) => { digestLine.textContent = t('detail.verify.err', { msg: e.message }); });
    }
    const next = nextStep();
    return h('section', { class: 'card permit-signatures' }, h('h2', { text: t('detail.signatures') }),
      sigs.length ? h('ol', { class: 'sig-list' }, items.map((x) => x.li)) : h('p', { class: 'muted', text: t('detail.signatures.none') }),
      digestLine,
      chain.length ? h('p', { class: 'muted', 'data-testid': 'sig-next' }, next
        ? t('detail.sig.next', { step: next.name_zh, roles: (next.user_roles || []).map(roleName).join('、') })
        : t('detail.sig.done')) : null);
  }

  function linkedSection() {
    const links = p.linked_permits || [];
    return h('section', { class: 'card permit-linked' }, h('h2', { text: t('detail.linked') }),
      links.length ? h('ul', null, links.map((n) => h('li', null, h('a', { href: `#/permits/${encodeURIComponent(n)}`, 'data-testid': 'permit-link', text: n }))))
        : h('p', { class: 'muted', text: t('detail.linked.none') }),
      p.supersedes ? h('p', null, `${t('detail.supersedes')}：`, h('a', { href: `#/permits/${encodeURIComponent(p.supersedes)}`, text: p.supersedes })) : null);
  }

  function historySection() {
    const box = h('section', { class: 'card permit-history' }, h('h2', { text: t('detail.history') }), h('p', { class: 'muted', text: t('common.loading') }));
    api('GET', `/api/v1/permits/${id}/history`).then((res) => {
      const ev = res.events || [];
      box.replaceChildren(h('h2', { text: t('detail.history') }), ev.length ? h('ol', { class: 'history-list', 'data-testid': 'permit-history' },
        ev.map((e) => h('li', { 'data-testid': 'history-item', 'data-kind': e.kind },
          h('span', { class: 'muted', text: fmtTime(e.time) }),
          h('strong', { text: tx(`hist.${e.kind}`, e.kind) }),
          e.payload && e.payload.state ? stateBadge(e.payload.state) : null,
          h('span', { class: 'muted', text: e.actor }),
          e.payload && e.payload.role ? h('span', { text: e.payload.role }) : null,
          e.payload && e.payload.reason ? h('q', { text: e.payload.reason }) : null,
          Number.isInteger(e.seq) ? h('button', { type: 'button', class: 'btn linkish', text: `${t('detail.history.proof')} #${e.seq}`, onclick: () => showProof(e.seq) }) : null)))
        : h('p', { class: 'muted', text: t('detail.history.none') }));
    }).catch((e) => box.replaceChildren(h('h2', { text: t('detail.history') }), h('p', { class: 'error', text: e.message })));
    return box;
  }

  // ---- actions ----
  const panel = h('div', { class: 'action-panel', 'data-testid': 'action-panel' });

  function showBlocked(e, target) {
    const d = e.body && e.body.decision;
    target.replaceChildren(h('p', { class: 'error', role: 'alert', 'data-testid': 'action-error', text: d ? t('act.blocked') : apiErrorText(e) }),
      d ? renderVerdict(d, { rb, type: p.type, grade: p.grade, testid: 'action-verdict' }) : null);
  }

  async function doAction(name, path, body, out) {
    try {
      const res = await api('POST', `/api/v1/permits/${id}/${path}`, body || {});
      toast(t('act.done', { action: t(`act.${name}`) }), 'ok');
      panel.replaceChildren();
      await reload(res && res.decision ? res.decision : undefined);
      return res;
    } catch (e) {
      if (e.status === 422 && e.body && e.body.permit) {
        // Gas readings are kept even when refused: show the new state with the reasons.
        p = e.body.permit;
        lastDecision = e.body.decision || lastDecision;
        draw();
        showBlocked(e, panel);
      } else if (out) {
        showBlocked(e, out);
      } else {
        showBlocked(e, panel);
      }
      return null;
    }
  }

  function reasonForm(name, path, { required, key, placeholder, label }) {
    const input = h('textarea', { id: `act-${name}-text`, 'data-testid': `${name}-reason`, rows: 2, placeholder: placeholder || '' });
    const out = h('div', { class: 'action-out' });
    const submit = h('button', { type: 'submit', class: ['btn', 'big', name === 'cancel' || name === 'suspend' ? 'btn-danger' : 'btn-primary'], 'data-testid': `${name}-submit`, text: t(`act.${name}`) });
    return h('form', { class: 'action-form', novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        const v = input.value.trim();
        if (required && !v) {
          input.setAttribute('aria-invalid', 'true');
          out.replaceChildren(h('p', { class: 'error', role: 'alert', text: t('apply.err.required') }));
          return;
        }
        submit.disabled = true;
        await doAction(name, path, v || required ? { [key]: v } : {}, out);
        submit.disabled = false;
      } },
    h('h3', { text: t(`act.${name}`) }),
    h('label', { for: `act-${name}-text`, text: label || t('act.reason') }), input, out,
    h('div', { class: 'form-buttons' }, submit, h('button', { type: 'button', class: 'btn big', text: t('act.back'), onclick: () => panel.replaceChildren() })));
  }

  function gasForm() {
    const analystPerson = (p.people || []).find((x) => x.role === 'gas_analyst');
    const instrumentKey = 'wg.gas.instrument';
    let lastInstrument = '';
    try { lastInstrument = localStorage.getItem(instrumentKey) || ''; } catch { /* none */ }
    const GASES = [
      { gas: 'O2', value: '20.9', units: ['%vol'] },
      { gas: 'CH4', value: '0', units: ['%LEL', '%vol', 'ppm'] },
      { gas: 'H2S', value: '0', units: ['mg/m3', 'ppm'] },
      { gas: 'CO', value: '0', units: ['mg/m3', 'ppm'] },
    ];
    const point = h('input', { id: 'gas-point', 'data-testid': 'gas-point', value: p.location?.description || p.location?.zone || '' });
    const analyst = h('input', { id: 'gas-analyst', 'data-testid': 'gas-analyst', value: analystPerson ? (analystPerson.name || analystPerson.worker_code || analystPerson.username) : (session.user?.display_name || '') });
    const instrument = h('input', { id: 'gas-instrument', 'data-testid': 'gas-instrument', value: lastInstrument, placeholder: 'PGM-2500 #A17' });
    const time = h('input', { id: 'gas-time', type: 'datetime-local', 'data-testid': 'gas-time', value: toLocalInput(Date.now()) });
    const rows = GASES.map((g) => {
      const inc = h('input', { type: 'checkbox', id: `gas-inc-${g.gas}`, 'data-testid': `gas-include-${g.gas}`, checked: true });
      const val = h('input', { id: `gas-value-${g.gas}`, type: 'number', inputmode: 'decimal', step: 'any', min: '0', 'data-testid': `gas-value-${g.gas}`, value: g.value });
      const unit = h('select', { id: `gas-unit-${g.gas}`, 'data-testid': `gas-unit-${g.gas}`, 'aria-label': `${g.gas} unit` }, g.units.map((u) => h('option', { value: u, text: u })));
      return { g, inc, val, unit, el: h('div', { class: 'gas-entry' },
        h('label', { class: 'gas-inc', for: `gas-inc-${g.gas}` }, inc, h('span', { class: 'gas-name', text: g.gas })),
        h('label', { class: 'sr-only', for: `gas-value-${g.gas}`, text: g.gas }), val, unit) };
    });
    const out = h('div', { class: 'action-out', 'data-testid': 'gas-result' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary big', 'data-testid': 'gas-submit', text: t('gas.submit') });
    return h('form', { class: 'action-form gas-form', novalidate: true, 'data-testid': 'gas-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        out.replaceChildren();
        if (!point.value.trim()) {
          point.setAttribute('aria-invalid', 'true');
          out.replaceChildren(h('p', { class: 'error', role: 'alert', text: t('gas.err.point') }));
          return;
        }
        const at = fromLocalInput(time.value);
        const readings = [];
        for (const r of rows) {
          if (!r.inc.checked) continue;
          const v = Number(r.val.value);
          if (r.val.value === '' || !Number.isFinite(v) || v < 0) {
            r.val.setAttribute('aria-invalid', 'true');
            out.replaceChildren(h('p', { class: 'error', role: 'alert', text: t('gas.err.value', { gas: r.g.gas }) }));
            return;
          }
          r.val.removeAttribute('aria-invalid');
          const reading = { time: new Date(Number.isFinite(at) ? Math.min(at, Date.now()) : Date.now()).toISOString(), point: point.value.trim(), gas: r.g.gas, value: v, unit: r.unit.value };
          if (analyst.value.trim()) reading.analyst = analyst.value.trim();
          if (instrument.value.trim()) reading.instrument = instrument.value.trim();
          readings.push(reading);
        }
        if (!readings.length) {
          out.replaceChildren(h('p', { class: 'error', role: 'alert', text: t('gas.err.none') }));
          return;
        }
        try { localStorage.setItem(instrumentKey, instrument.value.trim()); } catch { /* none */ }
        submit.disabled = true;
        const res = await doAction('gas', 'gas', { readings }, out);
        submit.disabled = false;
        if (res) toast(res.decision && res.decision.verdict === 'blocked' ? t('gas.failed') : t('gas.passed'), res.decision && res.decision.verdict === 'blocked' ? 'warn' : 'ok');
      } },
    h('h3', { text: t('gas.title') }),
    h('div', { class: 'field' }, h('label', { for: 'gas-point', text: t('gas.point') }), point),
    h('div', { class: 'gas-entries' }, rows.map((r) => r.el)),
    h('div', { class: 'field' }, h('label', { for: 'gas-analyst', text: t('gas.analyst') }), analyst),
    h('div', { class: 'field' }, h('label', { for: 'gas-instrument', text: t('gas.instrument') }), instrument),
    h('div', { class: 'field' }, h('label', { for: 'gas-time', text: t('gas.time') }), time),
    out,
    h('div', { class: 'form-buttons' }, submit, h('button', { type: 'button', class: 'btn big', text: t('act.back'), onclick: () => panel.replaceChildren() })));
  }

  function signForm(step) {
    const pw = h('input', { id: 'sign-password', type: 'password', autocomplete: 'current-password', 'data-testid': 'sign-password' });
    const opinion = h('input', { id: 'sign-opinion', 'data-testid': 'sign-opinion', value: t('sign.opinion.default') });
    const out = h('div', { class: 'action-out', 'data-testid': 'sign-result' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary big', 'data-testid': 'sign-submit', text: t('sign.submit') });
    setTimeout(() => pw.focus(), 0);
    return h('form', { class: 'action-form sign-form', novalidate: true, 'data-testid': 'sign-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        if (!pw.value) {
          pw.setAttribute('aria-invalid', 'true');
          out.replaceChildren(h('p', { class: 'error', role: 'alert', 'data-testid': 'sign-error', text: t('sign.err.empty') }));
          return;
        }
        submit.disabled = true;
        try {
          const body = { role: step.role, password: pw.value };
          if (opinion.value.trim()) body.opinion = opinion.value.trim();
          const res = await api('POST', `/api/v1/permits/${id}/sign`, body);
          pw.value = '';
          toast(t('act.done', { action: t('act.sign') }), 'ok');
          panel.replaceChildren();
          await reload(res && res.decision ? res.decision : undefined);
        } catch (e) {
          pw.value = '';
          submit.disabled = false;
          if (e.status === 403 && /password/i.test(e.message)) {
            pw.setAttribute('aria-invalid', 'true');
            out.replaceChildren(h('p', { class: 'error', role: 'alert', 'data-testid': 'sign-error', text: t('sign.err.password') }));
          } else {
            showBlocked(e, out);
          }
        }
      } },
    h('h3', { text: t('sign.title', { step: step.name_zh }) }),
    h('p', { class: 'muted', text: step.clause || '' }),
    h('div', { class: 'field' }, h('label', { for: 'sign-password', text: t('sign.password') }), pw),
    h('div', { class: 'field' }, h('label', { for: 'sign-opinion', text: t('sign.opinion') }), opinion),
    out,
    h('div', { class: 'form-buttons' }, submit, h('button', { type: 'button', class: 'btn big', text: t('act.back'), onclick: () => panel.replaceChildren() })));
  }

  function actionsSection() {
    const s = p.state;
    const btns = [];
    const btn = (name, onclick, cls) => btns.push(h('button', { type: 'button', class: ['btn', 'big', cls || ''], 'data-testid': `permit-action-${name}`, text: t(`act.${name}`), onclick }));
    if (s === 'draft' && hasRole(R.authors)) btn('submit', () => doAction('submit', 'submit', {}), 'btn-primary');
    if (['pending_gas_test', 'pending_signatures', 'approved', 'active', 'suspended'].includes(s) && hasRole(R.gas)) {
      btn('gas', () => panel.replaceChildren(gasForm()), s === 'pending_gas_test' ? 'btn-primary' : '');
    }
    const next = nextStep();
    let hint = null;
    if (s === 'pending_signatures' && next) {
      if (hasRole(next.user_roles || []) && hasRole(R.signers)) btn('sign', () => panel.replaceChildren(signForm(next)), 'btn-primary');
      else hint = h('p', { class: 'muted', text: t('sign.not_yours', { step: next.name_zh, roles: (next.user_roles || []).map(roleName).join('、') }) });
    }
    if (s === 'approved' && hasRole(R.gas)) btn('activate', () => doAction('activate', 'activate', {}), 'btn-primary');
    if (s === 'active' && hasRole(R.signers)) btn('suspend', () => panel.replaceChildren(reasonForm('suspend', 'suspend', { required: true, key: 'reason', placeholder: t('act.reason.suspend.ph') })), 'btn-danger');
    if (s === 'suspended' && hasRole(R.gas)) btn('resume', () => doAction('resume', 'resume', {}), 'btn-primary');
    if (['active', 'suspended'].includes(s) && hasRole(R.gas)) btn('complete', () => panel.replaceChildren(reasonForm('complete', 'complete', { required: false, key: 'note', label: t('act.note') })));
    if (!TERMINAL.includes(s) && hasRole(R.cancel)) btn('cancel', () => panel.replaceChildren(reasonForm('cancel', 'cancel', { required: true, key: 'reason', placeholder: t('act.reason.cancel.ph') })));
    return h('section', { class: 'card permit-actions', 'data-testid': 'permit-actions' }, h('h2', { text: t('detail.actions') }),
      btns.length ? h('div', { class: 'action-buttons' }, btns) : h('p', { class: 'muted', 'data-testid': 'permit-actions-none', text: t('detail.actions.none', { role: roleName(session.user?.role) }) }),
      hint, panel);
  }

  function evidenceSection() {
    const result = h('div', { class: 'evidence-out' });
    const fileName = () => `permit-${p.number}-evidence.json`;
    const evidenceErr = (e) => (e && e.status === 403
      ? t('detail.evidence.forbidden', { role: roleName(session.user?.role) })
      : t('detail.evidence.err', { msg: e.field ? `${e.field}: ${e.message}` : e.message }));
    async function fetchBundle() {
      const res = await api('GET', `/api/v1/permits/${id}/evidence`, null, { raw: true });
      const text = await res.text();
      bundle = text;
      return text;
    }
    const print = async () => {
      const win = window.open('', '_blank');
      try {
        const html = await api('GET', `/api/v1/permits/${id}/print?format=html&lang=${lang()}`);
        const url = URL.createObjectURL(new Blob([html], { type: 'text/html;charset=utf-8' }));
        if (win) win.location.href = url;
        else downloadBlob(new Blob([html], { type: 'text/html' }), `permit-${p.number}.html`);
        setTimeout(() => URL.revokeObjectURL(url), 60000);
      } catch (e) {
        if (win) win.close();
        toast(apiErrorText(e), 'error');
      }
    };
    const pdf = async () => {
      try {
        const res = await api('GET', `/api/v1/permits/${id}/print?format=pdf&lang=${lang()}`, null, { raw: true });
        downloadBlob(await res.blob(), `permit-${p.number}.pdf`);
      } catch (e) {
        toast(apiErrorText(e), 'error');
      }
    };
    return h('section', { class: 'card permit-evidence' }, h('h2', { text: t('alarms.evidence') }),
      h('div', { class: 'action-buttons' },
        h('button', { type: 'button', class: 'btn big', 'data-testid': 'permit-print', text: t('detail.print'), onclick: print }),
        h('button', { type: 'button', class: 'btn big', 'data-testid': 'permit-print-pdf', text: t('detail.print.pdf'), onclick: pdf }),
        h('button', { type: 'button', class: 'btn big', 'data-testid': 'permit-evidence-export', text: t('detail.evidence.export'),
          onclick: async () => {
            try {
              const text = await fetchBundle();
              downloadBlob(new Blob([text], { type: 'application/json' }), fileName());
              toast(t('detail.evidence.saved', { file: fileName() }), 'ok');
            } catch (e) {
              result.replaceChildren(h('p', { class: 'error', role: 'alert', 'data-testid': 'evidence-error', text: evidenceErr(e) }));
            }
          } }),
        h('button', { type: 'button', class: 'btn big', 'data-testid': 'permit-evidence-verify', text: t('detail.evidence.verify'),
          onclick: async () => {
            result.replaceChildren(h('p', { class: 'muted', text: t('common.loading') }));
            try {
              const text = bundle || await fetchBundle();
              const v = await api('POST', '/api/v1/evidence/verify', text, { headers: { 'Content-Type': 'application/json' } });
              const ok = v && v.ok === true;
              const checks = (v && Array.isArray(v.checks)) ? v.checks : [];
              const facts = (v && Array.isArray(v.facts)) ? v.facts : [];
              result.replaceChildren(h('div', { class: ['evidence-result', ok ? 'ok' : 'bad'], 'data-testid': 'evidence-result', 'data-ok': ok ? '1' : '0', role: 'status' },
                h('strong', { text: ok ? `✓ ${t('detail.evidence.ok')}` : `✗ ${t('detail.evidence.bad')}` }),
                h('p', { class: 'muted', text: t('detail.evidence.summary', { subject: v.subject || p.number, n: facts.length, bad: facts.filter((x) => !x.ok).length }) }),
                v.error ? h('p', { class: 'error', text: v.error }) : null,
                checks.length ? h('ul', { class: 'evidence-checks' }, checks.map((c) => h('li', { 'data-testid': 'evidence-check', 'data-check': c.check, 'data-ok': c.ok ? '1' : '0' },
                  h('strong', { text: `${c.ok ? '✓' : '✗'} ${tx(`detail.evidence.check.${c.check}`, c.check)}` }), ' ', h('span', { class: 'muted', text: c.message || '' })))) : null,
                h('details', null, h('summary', { text: 'JSON' }), h('pre', { class: 'mono', text: JSON.stringify(v, null, 2) }))));
            } catch (e) {
              result.replaceChildren(h('div', { class: 'evidence-result bad', 'data-testid': 'evidence-result', 'data-ok': '0', role: 'alert', text: evidenceErr(e) }));
            }
          } })),
      result);
  }

  function draw() {
    root.replaceChildren(
      h('p', { class: 'back' }, h('a', { class: 'btn', href: '#/permits', text: `← ${t('permits.back')}` })),
      h('article', { class: 'permit-detail', 'data-testid': 'permit-detail', 'data-id': p.id, 'data-number': p.number, 'data-state': p.state },
        h('header', { class: 'permit-head' },
          h('div', { class: 'permit-head-main' },
            h('span', { class: 'mono permit-number', text: p.number }),
            h('span', { class: 'permit-type', text: typeName(p.type) }),
            p.grade ? h('span', { class: 'permit-grade', text: gradeName(rb, p.type, p.grade) }) : null),
          h('h1', { text: p.title }),
          stateBadge(p.state, 'permit-state')),
        h('div', { class: 'permit-grid' },
          h('div', { class: 'permit-col' }, actionsSection(), verdictSection(), gasSection(), signaturesSection()),
          h('div', { class: 'permit-col' }, infoSection(), peopleSection(), measuresSection(), linkedSection(), evidenceSection(), historySection()))));
  }
  draw();
}

// ---------------------------------------------------------------------------
// Worker certificate check (used by the detail and the application flow)
// ---------------------------------------------------------------------------

let workersPromise = null;
function workersByCode() {
  if (!workersPromise) {
    workersPromise = (async () => {
      const map = new Map();
      let after = 0;
      for (let i = 0; i < 50; i++) {
        const res = await api('GET', `/api/v1/workers?after_id=${after}&limit=1000`);
        for (const w of res.workers || []) map.set(w.code.toUpperCase(), w);
        if (!res.next_after_id) break;
        after = res.next_after_id;
      }
      return map;
    })().catch((e) => {
      workersPromise = null;
      throw e;
    });
  }
  return workersPromise;
}

// -> {code, worker|null, verification|null}
async function verifyWorkerCode(code, operation) {
  const map = await workersByCode();
  const w = map.get(String(code).trim().toUpperCase()) || null;
  if (!w) return { code, worker: null, verification: null };
  if (!operation) return { code, worker: w, verification: null };
  const v = await api('GET', `/api/v1/workers/${w.id}/verify?operation=${encodeURIComponent(operation)}`);
  return { code, worker: w, verification: v };
}

function certLine(r, code) {
  if (!r.worker) return h('span', { class: 'cert-line bad', 'data-testid': 'cert-line', 'data-ok': '0', text: t('apply.cert.unknown', { code }) });
  const name = `${r.worker.name}（${r.worker.code}）`;
  if (!r.verification) return h('span', { class: 'cert-line ok', 'data-testid': 'cert-line', 'data-ok': '1', text: t('apply.cert.nocheck', { name }) });
  const v = r.verification;
  if (v.may_work) {
    const c = v.certificate || {};
    return h('span', { class: ['cert-line', 'ok', v.verdict !== 'valid' ? 'warn' : null], 'data-testid': 'cert-line', 'data-ok': '1', 'data-verdict': v.verdict },
      `✓ ${t('apply.cert.ok', { name, number: c.number || '—', expiry: c.expiry_date || '—' })}`,
      v.verdict !== 'valid' ? ` · ${tx(`cert.${v.verdict}`, v.verdict)}` : null);
  }
  const reasons = (v.reasons || []).map((x) => `${x.message_zh || x.message}（${x.clause}）`).join('；');
  return h('span', { class: 'cert-line bad', 'data-testid': 'cert-line', 'data-ok': '0', 'data-verdict': v.verdict },
    `✗ ${t('apply.cert.bad', { name, verdict: tx(`cert.${v.verdict}`, v.verdict) })}`,
    reasons ? h('small', { class: 'cert-reasons', text: reasons }) : null);
}

// ---------------------------------------------------------------------------
// #/permits/new — phone-first application flow
// ---------------------------------------------------------------------------

// Templates per type: the section with safe defaults, a title, the hazards and measures to
// start from. The rulebook check in the last step says what is still missing.
const TEMPLATES = {
  hot_work: {
    title: '{zone} 管线焊接', hazard: '焊接飞溅引燃可燃物、灼烫、触电；作业点周边可燃物已清理',
    section: { method: 'welding', on_running_equipment: false, hot_tapping: false, shutdown_and_isolated: false, oxygen_equipment: false, in_fixed_hot_work_area: false, oxygen_acetylene_distance_m: 6, cylinder_to_point_distance_m: 12, welder_machine_distance_m: 8 },
    activities: ['welding'],
    measures: [['hot_work.1', '动火点周围可燃物已清除，配备灭火器材'], ['hot_work.2', '与动火点相连的管线已隔离、置换合格']],
  },
  confined_space: {
    title: '{zone} 设备内部检查', hazard: '缺氧、有毒气体中毒、可燃气体爆炸；已隔离、置换、通风',
    section: { space_name: '{zone}', original_medium: '原油', oxygen_enriched: false, isolation: ['blind_plate'], ventilation: 'forced', lighting_voltage_v: 12, wet_or_cramped: false, previously_flammable: true, continuous_monitor: '便携式四合一气体检测仪' },
    measures: [['confined_space.1', '与受限空间连通的管道已加盲板隔离并挂牌'], ['confined_space.2', '已清洗置换并强制通风']],
  },
  blind_plate: {
    title: '{zone} 盲板抽堵', hazard: '介质泄漏、中毒、灼烫；管道已泄压排空',
    section: { pipeline: '工艺管线', medium: '工艺介质', temperature_c: 30, pressure_mpa: 0, plates: [{ number: 'MB-01', action: 'insert', material: '20#', size: 'DN100' }], diagram_ref: '盲板位置图（随票附）', toxic_line: false },
    measures: [['blind_plate.1', '管道已降压至常压并排空残液']],
  },
  work_at_height: {
    title: '{zone} 平台高处作业', hazard: '高处坠落、物体打击；作业面下方设置警戒区',
    section: { height_m: 5, grade: 'I', protective_layer: false },
    measures: [['work_at_height.1', '作业人员身体条件符合要求'], ['work_at_height.2', '佩戴全身式安全带，高挂低用']],
  },
  lifting: {
    title: '{zone} 设备吊装', hazard: '起重伤害、物体打击；吊装区域设置警戒',
    section: { mass_t: 10, grade: 'grade3', complex_load: false, cranes: 1, max_load_ratio: 0.6, test_lift_done: false },
    measures: [['lifting.1', '吊装方案已审批并交底']],
  },
  temporary_power: {
    title: '{zone} 临时用电', hazard: '触电、电气火花；使用漏电保护器',
    section: { voltage: '380V', load_kw: 10, hazardous_area: false, access_point: '检修配电箱', supply_unit: '电气车间' },
    measures: [['temporary_power.1', '接线由持证电工操作，上级开关断电上锁挂牌']],
  },
  excavation: {
    title: '{zone} 动土作业', hazard: '损坏地下管线、坍塌；已核实地下设施',
    section: { depth_m: 1, area_m2: 10, hazardous_area: false, sketch_ref: '动土范围示意图（随票附）', buried_facilities_surveyed: true },
    measures: [['excavation.1', '作业前已核实地下电缆、管道位置并做标识']],
  },
  road_breaking: {
    title: '{zone} 道路断路作业', hazard: '车辆伤害；设置警示牌和路栏，保留消防通道',
    section: { road: '厂区道路', traffic_plan_ref: '交通组织方案（随票附）', fire_lane_kept: true, short_fixed_point: false },
    measures: [['road_breaking.1', '断路两端设置交通警示牌、路栏和导向标志']],
  },
};

const APPLY_KEY = 'wg.apply';
const STEPS = ['type', 'site', 'zone', 'what', 'people', 'time', 'review'];

function loadApply() {
  try {
    const s = JSON.parse(sessionStorage.getItem(APPLY_KEY) || 'null');
    if (s && s.user === session.user?.username) return s;
  } catch { /* fresh */ }
  return null;
}
function saveApply(s) {
  try { sessionStorage.setItem(APPLY_KEY, JSON.stringify(s)); } catch { /* memory only */ }
}

function centroid(poly) {
  const pts = (poly || []).map((q) => (Array.isArray(q) ? { x: q[0], y: q[1] } : q)).filter((q) => q && Number.isFinite(q.x) && Number.isFinite(q.y));
  if (!pts.length) return { x: 0, y: 0 };
  const x = pts.reduce((a, q) => a + q.x, 0) / pts.length;
  const y = pts.reduce((a, q) => a + q.y, 0) / pts.length;
  return { x: Math.round(x * 10) / 10, y: Math.round(y * 10) / 10 };
}

// Zones of a site: the site plan when there is one, else the monitoring points and fences.
async function siteZones(site) {
  const zones = new Map();
  try {
    const res = await api('GET', `/api/v1/sites/${encodeURIComponent(site)}/plan`);
    const plan = res.plan || res;
    for (const z of plan.zones || []) zones.set(z.code, { code: z.code, name: z.name || z.code, point: centroid(z.polygon) });
  } catch { /* no plan */ }
  if (!zones.size) {
    const [pts, fences] = await Promise.allSettled([api('GET', '/api/v1/points'), api('GET', `/api/v1/fences?site=${encodeURIComponent(site)}`)]);
    if (fences.status === 'fulfilled') {
      for (const f of fences.value.fences || []) if (f.zone && !zones.has(f.zone)) zones.set(f.zone, { code: f.zone, name: f.name || f.zone, point: centroid(f.area && f.area.outer) });
    }
    if (pts.status === 'fulfilled') {
      for (const q of pts.value.points || []) if (q.site === site && q.zone && !zones.has(q.zone)) zones.set(q.zone, { code: q.zone, name: q.zone, point: { x: 0, y: 0 } });
    }
  }
  return [...zones.values()];
}

function buildDocument(s, rb) {
  const tpl = TEMPLATES[s.type];
  const fill = (v) => (typeof v === 'string' ? v.replaceAll('{zone}', s.zoneName || s.zone) : v);
  const section = JSON.parse(JSON.stringify(tpl.section), (k, v) => fill(v));
  // Sections that carry their own grade (height, lifting) follow the chosen one.
  if ('grade' in section && s.grade) section.grade = s.grade;
  const ti = typeInfo(rb, s.type);
  const needs = (role) => ((ti && ti.people) || []).some((r) => r.role === role);
  const people = [];
  if (s.performer) people.push({ role: 'performer', worker_code: s.performer, name: s.performerName || undefined });
  if (s.guardian) people.push({ role: 'guardian', username: s.guardian });
  const certified = s.certified || {};
  if (certified.work_leader) people.push({ role: 'work_leader', worker_code: certified.work_leader });
  else if (s.leader) people.push({ role: 'work_leader', username: s.leader });
  if (s.leader) people.push({ role: 'safety_briefer', username: s.leader });
  if (s.performer) people.push({ role: 'briefing_recipient', worker_code: s.performer, name: s.performerName || undefined });
  if (needs('gas_analyst') && s.analyst) people.push({ role: 'gas_analyst', worker_code: s.analyst });
  if (needs('commander') && certified.commander) people.push({ role: 'commander', worker_code: certified.commander });
  else if (needs('commander') && s.leader) people.push({ role: 'commander', username: s.leader });
  for (const x of people) if (!x.name) delete x.name;
  const doc = {
    type: s.type,
    site: s.site,
    title: s.title,
    location: { zone: s.zone, point: s.point || { x: 0, y: 0 } },
    planned_start: isoShanghai(s.start),
    planned_end: isoShanghai(s.end),
    people,
    measures: tpl.measures.map(([code, text]) => ({ code, text, involved: true })),
    [SECTION[s.type] || s.type]: section,
  };
  if (s.grade) doc.grade = s.grade;
  doc.location.description = s.desc || s.zoneName || s.zone;
  if (s.hazard) doc.hazard_analysis = s.hazard;
  if (s.workUnit) doc.work_unit = s.workUnit;
  doc.owning_unit = s.owningUnit || s.siteName || s.site;
  if (tpl.activities) doc.activities = tpl.activities;
  return doc;
}

async function renderApply(container) {
  const rb = await rulebook();
  const sites = (await api('GET', '/api/v1/sites')).sites || [];
  let s = loadApply() || { user: session.user?.username, step: 0 };
  const root = h('section', { class: 'apply-page', 'data-testid': 'apply' });
  container.appendChild(root);

  const save = () => saveApply(s);
  const goStep = (n) => {
    s.step = Math.max(0, Math.min(STEPS.length - 1, n));
    save();
    draw();
  };

  function frame(qKey, body, { next, nextLabel, canNext = true, extra } = {}) {
    const nextBtn = next ? h('button', { type: 'button', class: 'btn btn-primary big apply-next', 'data-testid': 'apply-next', disabled: !canNext, text: nextLabel || t('apply.next'), onclick: next }) : null;
    root.replaceChildren(
      h('header', { class: 'apply-head' },
        h('span', { class: 'apply-step', 'data-testid': 'apply-step', 'data-step': STEPS[s.step], text: t('apply.step', { n: s.step + 1, total: STEPS.length }) }),
        h('div', { class: 'apply-progress', 'aria-hidden': 'true' }, h('span', { style: { width: `${((s.step + 1) / STEPS.length) * 100}%` } })),
        h('h1', { text: t(qKey) })),
      h('div', { class: 'apply-body' }, body),
      h('footer', { class: 'apply-foot' },
        s.step > 0 ? h('button', { type: 'button', class: 'btn big apply-prev', 'data-testid': 'apply-prev', text: `‹ ${t('apply.prev')}`, onclick: () => goStep(s.step - 1) }) : null,
        extra || null,
        nextBtn));
    return nextBtn;
  }

  function field(id, label, input, hint) {
    return h('div', { class: 'field apply-field' }, h('label', { for: id, text: label }), input, hint || null);
  }

  function stepType() {
    frame('apply.q.type', h('div', { class: 'choice-grid' }, TYPES.map((ty) => h('button', {
      type: 'button', class: ['choice', s.type === ty ? 'selected' : null], 'data-testid': `apply-type-${ty}`, 'aria-pressed': s.type === ty ? 'true' : 'false',
      onclick: () => {
        if (s.type !== ty) {
          s.type = ty;
          const ti = typeInfo(rb, ty);
          const grades = (ti && ti.grades || []).map((g) => g.code).filter(Boolean);
          s.grade = grades.length ? grades[grades.length - 1] : '';
          s.title = '';
          s.hazard = '';
        }
        goStep(1);
      },
    }, h('span', { class: 'choice-main', text: typeInfo(rb, ty)?.name_zh || typeName(ty) }), lang() === 'en' ? h('span', { class: 'choice-sub', text: typeName(ty).replace(/^\S+\s/, '') }) : null))));
  }

  function stepSite() {
    frame('apply.q.site', h('div', { class: 'choice-grid' }, sites.map((x) => h('button', {
      type: 'button', class: ['choice', s.site === x.code ? 'selected' : null], 'data-testid': `apply-site-${x.code}`,
      onclick: () => {
        if (s.site !== x.code) { s.site = x.code; s.zone = ''; }
        s.siteName = x.name;
        goStep(2);
      },
    }, h('span', { class: 'choice-main', text: x.name }), h('span', { class: 'choice-sub mono', text: x.code })))));
  }

  async function stepZone() {
    frame('apply.q.zone', h('p', { class: 'muted', text: t('common.loading') }));
    const zones = await siteZones(s.site);
    if (!zones.length) {
      const input = h('input', { id: 'apply-zone', 'data-testid': 'apply-zone', value: s.zone || '', autocapitalize: 'characters' });
      const btn = frame('apply.q.zone', [h('p', { class: 'muted', text: t('apply.zone.none') }), field('apply-zone', t('apply.zone.code'), input)], {
        next: () => {
          if (!input.value.trim()) { input.setAttribute('aria-invalid', 'true'); return; }
          s.zone = input.value.trim(); s.zoneName = s.zone; s.point = { x: 0, y: 0 };
          goStep(3);
        },
      });
      void btn;
      return;
    }
    frame('apply.q.zone', h('div', { class: 'choice-grid' }, zones.map((z) => h('button', {
      type: 'button', class: ['choice', s.zone === z.code ? 'selected' : null], 'data-testid': `apply-zone-${z.code}`,
      onclick: () => {
        s.zone = z.code; s.zoneName = z.name; s.point = z.point;
        goStep(3);
      },
    }, h('span', { class: 'choice-main', text: z.name }), h('span', { class: 'choice-sub mono', text: z.code })))));
  }

  function stepWhat() {
    const tpl = TEMPLATES[s.type];
    const fill = (v) => v.replaceAll('{zone}', s.zoneName || s.zone || '');
    if (!s.title) s.title = fill(tpl.title);
    if (!s.hazard) s.hazard = tpl.hazard;
    const title = h('input', { id: 'apply-title', 'data-testid': 'apply-title', value: s.title, maxlength: 200 });
    const desc = h('input', { id: 'apply-desc', 'data-testid': 'apply-desc', value: s.desc || '', placeholder: s.zoneName || '' });
    const hazard = h('textarea', { id: 'apply-hazard', 'data-testid': 'apply-hazard', rows: 3, value: s.hazard });
    hazard.value = s.hazard;
    const ti = typeInfo(rb, s.type);
    const grades = (ti && ti.grades || []).filter((g) => g.code);
    let gradeSel = null;
    if (grades.length) {
      gradeSel = h('div', { class: 'seg', role: 'radiogroup', 'aria-label': t('apply.grade') }, grades.map((g) => h('button', {
        type: 'button', role: 'radio', class: ['seg-btn', s.grade === g.code ? 'selected' : null], 'aria-checked': s.grade === g.code ? 'true' : 'false',
        'data-testid': `apply-grade-${g.code}`, text: `${g.name_zh}（≤ ${g.max_validity}）`,
        onclick: () => { s.grade = g.code; save(); stepWhat(); },
      })));
    }
    frame('apply.q.what', [
      h('p', { class: 'apply-context', text: `${typeInfo(rb, s.type)?.name_zh || typeName(s.type)} · ${s.siteName || s.site} · ${s.zoneName || s.zone}` }),
      field('apply-title', t('apply.title'), title),
      gradeSel ? h('div', { class: 'field apply-field' }, h('span', { class: 'label', text: t('apply.grade') }), gradeSel) : null,
      field('apply-desc', t('apply.desc'), desc),
      field('apply-hazard', t('apply.hazard'), hazard),
    ], {
      next: () => {
        if (!title.value.trim()) { title.setAttribute('aria-invalid', 'true'); title.focus(); return; }
        s.title = title.value.trim(); s.desc = desc.value.trim(); s.hazard = hazard.value.trim();
        goStep(4);
      },
    });
  }

  function stepPeople() {
    const ti = typeInfo(rb, s.type);
    const perfOp = ((ti && ti.people) || []).find((r) => r.role === 'performer')?.operation || '';
    const needsAnalyst = ((ti && ti.people) || []).some((r) => r.role === 'gas_analyst');
    if (!s.leader) s.leader = session.user?.username || '';
    if (s.guardian === undefined) s.guardian = 'guardian';
    const perf = h('input', { id: 'apply-performer', 'data-testid': 'apply-performer', value: s.performer || '', placeholder: t('apply.performer.ph'), autocapitalize: 'characters', autocomplete: 'off', spellcheck: 'false' });
    const perfResult = h('div', { class: 'apply-cert', 'data-testid': 'apply-performer-result', 'aria-live': 'polite' });
    const guardian = h('input', { id: 'apply-guardian', 'data-testid': 'apply-guardian', value: s.guardian || '', autocapitalize: 'none', spellcheck: 'false' });
    const leader = h('input', { id: 'apply-leader', 'data-testid': 'apply-leader', value: s.leader || '', autocapitalize: 'none', spellcheck: 'false' });
    const analyst = needsAnalyst ? h('input', { id: 'apply-analyst', 'data-testid': 'apply-analyst', value: s.analyst || '', placeholder: 'HG-004', autocapitalize: 'characters', spellcheck: 'false' }) : null;
    const analystResult = h('div', { class: 'apply-cert', 'data-testid': 'apply-analyst-result', 'aria-live': 'polite' });
    // Other roles the rulebook ties to an operator certificate (lifting commander,
    // temporary-power work leader): a worker code each, checked like the performer.
    s.certified = s.certified || {};
    const extra = ((ti && ti.people) || []).filter((r) => r.operation && r.role !== 'performer').map((r) => {
      const input = h('input', { id: `apply-person-${r.role}`, 'data-testid': `apply-person-${r.role}`, value: s.certified[r.role] || '', autocapitalize: 'characters', spellcheck: 'false' });
      const out = h('div', { class: 'apply-cert', 'data-testid': `apply-person-${r.role}-result`, 'aria-live': 'polite' });
      input.addEventListener('change', () => check(input, out, r.operation, false));
      return { r, input, out };
    });
    let perfOk = false;
    let seq = 0;
    async function check(input, out, op, isPerformer) {
      const code = input.value.trim();
      const my = ++seq;
      if (!code) { out.replaceChildren(); if (isPerformer) perfOk = false; return; }
      out.replaceChildren(h('span', { class: 'muted', text: t('apply.cert.checking') }));
      try {
        const r = await verifyWorkerCode(code, op);
        if (my !== seq && isPerformer) return;
        out.replaceChildren(certLine(r, code));
        if (isPerformer) {
          perfOk = Boolean(r.worker);
          s.performerName = r.worker ? r.worker.name : '';
          if (r.worker) s.workUnit = r.worker.employer || s.workUnit;
        }
      } catch (e) {
        out.replaceChildren(h('span', { class: 'error', text: e.message }));
      }
    }
    let timer = null;
    perf.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => check(perf, perfResult, perfOp, true), 250); });
    if (analyst) analyst.addEventListener('change', () => check(analyst, analystResult, '', false));
    frame('apply.q.people', [
      field('apply-performer', perfOp ? t('apply.performer.cert') : t('apply.performer'), perf, perfResult),
      field('apply-guardian', t('apply.guardian'), guardian),
      field('apply-leader', t('apply.leader'), leader),
      analyst ? field('apply-analyst', t('apply.analyst'), analyst, analystResult) : null,
      extra.map((x) => field(`apply-person-${x.r.role}`, t('apply.certified', { role: proleName(x.r.role) }), x.input, x.out)),
    ], {
      next: async () => {
        let bad = false;
        for (const [inp, req] of [[perf, true], [guardian, true], [leader, true]]) {
          if (req && !inp.value.trim()) { inp.setAttribute('aria-invalid', 'true'); bad = true; } else inp.removeAttribute('aria-invalid');
        }
        if (bad) return;
        if (!perfOk) await check(perf, perfResult, perfOp, true);
        if (!perfOk) { perf.setAttribute('aria-invalid', 'true'); perf.focus(); return; }
        s.performer = perf.value.trim().toUpperCase();
        s.guardian = guardian.value.trim();
        s.leader = leader.value.trim();
        if (analyst) s.analyst = analyst.value.trim().toUpperCase();
        for (const x of extra) {
          const v = x.input.value.trim().toUpperCase();
          if (v) s.certified[x.r.role] = v;
          else delete s.certified[x.r.role];
        }
        goStep(5);
      },
    });
    if (perf.value) check(perf, perfResult, perfOp, true);
    if (analyst && analyst.value) check(analyst, analystResult, '', false);
    for (const x of extra) if (x.input.value) check(x.input, x.out, x.r.operation, false);
    setTimeout(() => perf.focus(), 0);
  }

  function stepTime() {
    if (!s.start || s.start < Date.now() - 3600e3) {
      s.start = Math.ceil(Date.now() / 60000) * 60000 + 60000;
      s.end = s.start + 8 * 3600e3;
    }
    const start = h('input', { id: 'apply-start', type: 'datetime-local', 'data-testid': 'apply-start', value: toLocalInput(s.start) });
    const end = h('input', { id: 'apply-end', type: 'datetime-local', 'data-testid': 'apply-end', value: toLocalInput(s.end) });
    const ti = typeInfo(rb, s.type);
    const g = (ti && ti.grades || []).find((x) => x.code === (s.grade || ''));
    const info = h('p', { class: 'muted', 'data-testid': 'apply-hours' });
    const err = h('p', { class: 'error', role: 'alert', hidden: true });
    const upd = () => {
      const a = fromLocalInput(start.value);
      const b = fromLocalInput(end.value);
      info.textContent = Number.isFinite(a) && Number.isFinite(b)
        ? t('apply.hours', { n: Math.round(((b - a) / 3600e3) * 10) / 10, max: g ? g.max_validity : '—', grade: g ? g.name_zh : '' }) : '';
    };
    start.addEventListener('change', () => {
      const a = fromLocalInput(start.value);
      const dur = s.end - s.start;
      if (Number.isFinite(a)) end.value = toLocalInput(a + dur);
      upd();
    });
    end.addEventListener('change', upd);
    upd();
    frame('apply.q.time', [field('apply-start', t('apply.start'), start), field('apply-end', t('apply.end'), end), info, err], {
      next: () => {
        const a = fromLocalInput(start.value);
        const b = fromLocalInput(end.value);
        if (!Number.isFinite(a) || !Number.isFinite(b) || b <= a) { err.textContent = t('apply.err.time'); err.hidden = false; return; }
        s.start = a; s.end = b;
        goStep(6);
      },
    });
  }

  async function stepReview() {
    const doc = buildDocument(s, rb);
    const out = h('div', { class: 'apply-review' }, h('p', { class: 'muted', text: t('apply.checking') }));
    const result = h('div', { class: 'apply-result' });
    let submitBtn = null;
    const summary = h('dl', { class: 'pk-kv apply-summary' },
      h('dt', { text: t('permits.col.type') }), h('dd', { text: `${typeInfo(rb, s.type)?.name_zh || s.type}${s.grade ? ` · ${gradeName(rb, s.type, s.grade)}` : ''}` }),
      h('dt', { text: t('detail.zone') }), h('dd', { text: `${s.siteName || s.site} · ${s.zoneName || s.zone}` }),
      h('dt', { text: t('apply.title') }), h('dd', { text: s.title }),
      h('dt', { text: t('prole.performer') }), h('dd', { text: `${s.performerName || ''} ${s.performer}` }),
      h('dt', { text: t('prole.guardian') }), h('dd', { text: s.guardian }),
      h('dt', { text: t('detail.planned') }), h('dd', { text: `${fmtTime(s.start)} – ${fmtTime(s.end)}` }));
    const create = async (submit) => {
        submitBtn.disabled = true;
        submitBtn.textContent = t('apply.submit.busy');
        let created = null;
        try {
          const res = await api('POST', '/api/v1/permits', doc);
          created = res.permit || res;
          toast(t('apply.created', { number: created.number }), 'ok');
          if (!submit) {
            sessionStorage.removeItem(APPLY_KEY);
            go(`#/permits/${created.id}`);
            return;
          }
          await api('POST', `/api/v1/permits/${created.id}/submit`, {});
          toast(t('apply.submitted', { number: created.number }), 'ok');
          sessionStorage.removeItem(APPLY_KEY);
          go(`#/permits/${created.id}`);
        } catch (e) {
          submitBtn.disabled = false;
          submitBtn.textContent = t('apply.submit');
          const d = e.body && e.body.decision;
          result.replaceChildren(
            h('p', { class: 'error', role: 'alert', 'data-testid': 'apply-error' },
              created ? t('apply.submit.blocked', { number: created.number }) : apiErrorText(e)),
            d ? renderVerdict(d, { rb, type: s.type, grade: s.grade, testid: 'apply-submit-verdict' }) : null,
            created ? h('a', { class: 'btn big', href: `#/permits/${created.id}`, text: created.number }) : null);
          if (created) sessionStorage.removeItem(APPLY_KEY);
        }
    };
    const restart = h('button', { type: 'button', class: 'btn', 'data-testid': 'apply-restart', text: t('apply.restart'), onclick: () => { sessionStorage.removeItem(APPLY_KEY); s = { user: session.user?.username, step: 0 }; draw(); } });
    const draftBtn = h('button', { type: 'button', class: 'btn big', 'data-testid': 'apply-draft', hidden: true, text: t('apply.draft'), onclick: () => create(false) });
    submitBtn = frame('apply.q.review', [summary, out, result, h('div', { class: 'apply-more' }, draftBtn, restart)], {
      next: () => create(true),
      nextLabel: t('apply.submit'),
      canNext: false,
    });
    submitBtn.dataset.testid = 'apply-submit';
    submitBtn.classList.remove('apply-next');
    try {
      const d = await api('POST', '/api/v1/permits/check', doc);
      const blocked = (d.violations || []).filter((v) => v.severity === 'block').length;
      const suggest = d.grade && d.grade.required && d.grade.required !== s.grade
        ? h('button', { type: 'button', class: 'btn big', 'data-testid': 'apply-grade-suggest', text: t('apply.grade.suggest', { grade: gradeName(rb, s.type, d.grade.required) }),
          onclick: () => { s.grade = d.grade.required; save(); stepReview(); } }) : null;
      submitBtn.disabled = blocked > 0;
      draftBtn.hidden = blocked === 0;
      out.replaceChildren(
        h('p', { class: blocked ? 'error' : 'ok', 'data-testid': 'apply-verdict-summary', text: blocked ? t('apply.blocked', { n: blocked }) : t('apply.ok') }),
        suggest,
        renderVerdict(d, { rb, type: s.type, grade: s.grade, testid: 'apply-verdict' }),
        (typeInfo(rb, s.type)?.people || []).some((r) => r.role === 'gas_analyst') ? h('p', { class: 'muted', text: t('apply.gas.note') }) : null);
    } catch (e) {
      submitBtn.disabled = false;
      out.replaceChildren(h('p', { class: 'error', role: 'alert', 'data-testid': 'apply-verdict', 'data-verdict': 'error', text: t('verdict.err', { msg: e.field ? `${e.field}: ${e.message}` : e.message }) }));
    }
  }

  function draw() {
    if (!s.type && s.step > 0) s.step = 0;
    if (!s.site && s.step > 1) s.step = 1;
    if (!s.zone && s.step > 2) s.step = 2;
    const fn = [stepType, stepSite, stepZone, stepWhat, stepPeople, stepTime, stepReview][s.step];
    Promise.resolve(fn()).catch((e) => root.replaceChildren(h('p', { class: 'error', role: 'alert', text: t('common.error', { msg: e.message }) })));
    window.scrollTo(0, 0);
  }
  draw();
}

route('#/permits', renderList, { title: 'permits.title', nav: 'permits' });
route('#/permits/new', renderApply, { title: 'permits.new.title', nav: 'permits', roles: R.authors });
route('#/permits/:id', renderDetail, { title: 'permits.detail.title', nav: 'permits' });
