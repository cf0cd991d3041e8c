//! The wording of every e-mail in the 12 languages of R11, and the small locale rules the
//! e-mails need (list separators, plural of "day", dates). Translators edit this file only.

use fasttrack_core::Language::{self, *};

/// A template's subject and body, with `{variable}` placeholders.
pub(super) struct Text {
    pub subject: &'static str,
    pub body: &'static str,
}

const fn t(subject: &'static str, body: &'static str) -> Option<Text> {
    Some(Text { subject, body })
}

/// The text of `template` in `lang`.
pub(super) fn text(template: &str, lang: Language) -> Option<Text> {
    match template {
        "request_acknowledged" => request_acknowledged(lang),
        "request_received_staff" => request_received_staff(lang),
        "request_accepted" => request_accepted(lang),
        "request_declined" => request_declined(lang),
        "request_info_needed" => request_info_needed(lang),
        "relationship_expiry_warning" => relationship_expiry_warning(lang),
        "meeting_invite" => meeting_invite(lang),
        "meeting_cancelled" => meeting_cancelled(lang),
        "meeting_reminder" => meeting_reminder(lang),
        "sla_near_breach" => sla_near_breach(lang),
        _ => None,
    }
}

fn request_acknowledged(lang: Language) -> Option<Text> {
    match lang {
        ChineseTraditional => t(
            "我們已收到您的 FastTrack 申請 {request_id}",
            "您好：

感謝您與 FastTrack 聯繫。我們已收到您為 {tenant} 提出的協助申請。

申請編號：{request_id}
服務：{services}
提交管道：{channel}

我們的團隊成員將會審閱您的申請，並儘快與您聯繫。後續聯絡時，請提供此申請編號。

FastTrack 團隊 敬上
",
        ),
        ChineseSimplified => t(
            "我们已收到您的 FastTrack 申请 {request_id}",
            "您好：

感谢您联系 FastTrack。我们已收到您为 {tenant} 提交的协助申请。

申请编号：{request_id}
服务：{services}
提交渠道：{channel}

我们的团队成员将审阅您的申请，并尽快与您联系。后续沟通时，请提供此申请编号。

FastTrack 团队 敬上
",
        ),
        English => t(
            "We have received your FastTrack request {request_id}",
            "Hello,

Thank you for contacting FastTrack. We have received your request for assistance for {tenant}.

Request: {request_id}
Services: {services}
Submitted through: {channel}

A member of our team will review it and get back to you shortly. Please quote the request number in any follow-up.

Kind regards,
The FastTrack team
",
        ),
        French => t(
            "Nous avons bien reçu votre demande FastTrack {request_id}",
            "Bonjour,

Merci d'avoir contacté FastTrack. Nous avons bien reçu votre demande d'assistance pour {tenant}.

Demande : {request_id}
Services : {services}
Envoyée depuis : {channel}

Un membre de notre équipe va l'examiner et reviendra vers vous rapidement. Merci de rappeler ce numéro de demande dans vos échanges ultérieurs.

Cordialement,
L'équipe FastTrack
",
        ),
        German => t(
            "Wir haben Ihre FastTrack-Anfrage {request_id} erhalten",
            "Guten Tag,

vielen Dank, dass Sie sich an FastTrack gewandt haben. Wir haben Ihre Anfrage auf Unterstützung für {tenant} erhalten.

Anfrage: {request_id}
Dienste: {services}
Eingereicht über: {channel}

Ein Mitglied unseres Teams prüft Ihre Anfrage und meldet sich in Kürze bei Ihnen. Bitte geben Sie bei Rückfragen die Anfragenummer an.

Mit freundlichen Grüßen
Ihr FastTrack-Team
",
        ),
        Italian => t(
            "Abbiamo ricevuto la sua richiesta FastTrack {request_id}",
            "Buongiorno,

grazie per aver contattato FastTrack. Abbiamo ricevuto la sua richiesta di assistenza per {tenant}.

Richiesta: {request_id}
Servizi: {services}
Inviata tramite: {channel}

Un membro del nostro team la esaminerà e la ricontatterà al più presto. La preghiamo di indicare il numero della richiesta in ogni comunicazione successiva.

Cordiali saluti,
Il team FastTrack
",
        ),
        Japanese => t(
            "FastTrack へのリクエスト {request_id} を受け付けました",
            "FastTrack にお問い合わせいただき、ありがとうございます。

{tenant} に関する支援リクエストを受け付けました。

リクエスト番号: {request_id}
サービス: {services}
受付経路: {channel}

担当者が内容を確認のうえ、追ってご連絡いたします。今後のお問い合わせの際は、このリクエスト番号をお知らせください。

FastTrack チーム
",
        ),
        Korean => t(
            "FastTrack 요청이 접수되었습니다 ({request_id})",
            "안녕하세요.

FastTrack에 문의해 주셔서 감사합니다. {tenant}에 대한 지원 요청이 접수되었습니다.

요청 번호: {request_id}
서비스: {services}
접수 경로: {channel}

담당 팀원이 요청을 검토한 후 곧 연락드리겠습니다. 추가로 문의하실 때는 이 요청 번호를 알려 주세요.

FastTrack 팀 드림
",
        ),
        PortugueseBrazil => t(
            "Recebemos sua solicitação do FastTrack {request_id}",
            "Olá,

Obrigado por entrar em contato com o FastTrack. Recebemos sua solicitação de assistência para {tenant}.

Solicitação: {request_id}
Serviços: {services}
Enviada por: {channel}

Um membro da nossa equipe vai analisá-la e retornará em breve. Informe o número da solicitação em qualquer contato futuro.

Atenciosamente,
Equipe FastTrack
",
        ),
        Spanish => t(
            "Hemos recibido su solicitud de FastTrack {request_id}",
            "Hola:

Gracias por ponerse en contacto con FastTrack. Hemos recibido su solicitud de asistencia para {tenant}.

Solicitud: {request_id}
Servicios: {services}
Enviada desde: {channel}

Un miembro de nuestro equipo la revisará y se pondrá en contacto con usted en breve. Indique el número de solicitud en cualquier comunicación posterior.

Atentamente,
El equipo de FastTrack
",
        ),
        Thai => t(
            "เราได้รับคำขอ FastTrack ของคุณแล้ว ({request_id})",
            "เรียน ผู้ใช้บริการ

ขอบคุณที่ติดต่อ FastTrack เราได้รับคำขอความช่วยเหลือสำหรับ {tenant} ของคุณแล้ว

หมายเลขคำขอ: {request_id}
บริการ: {services}
ช่องทางที่ส่งคำขอ: {channel}

ทีมงานของเราจะตรวจสอบคำขอและติดต่อกลับโดยเร็วที่สุด โปรดแจ้งหมายเลขคำขอนี้ทุกครั้งที่ติดต่อเรา

ขอแสดงความนับถือ
ทีม FastTrack
",
        ),
        Vietnamese => t(
            "Chúng tôi đã nhận được yêu cầu FastTrack {request_id} của bạn",
            "Xin chào,

Cảm ơn bạn đã liên hệ với FastTrack. Chúng tôi đã nhận được yêu cầu hỗ trợ của bạn cho {tenant}.

Mã yêu cầu: {request_id}
Dịch vụ: {services}
Gửi qua: {channel}

Một thành viên trong nhóm của chúng tôi sẽ xem xét và phản hồi bạn trong thời gian sớm nhất. Vui lòng cung cấp mã yêu cầu này mỗi khi liên hệ với chúng tôi.

Trân trọng,
Nhóm FastTrack
",
        ),
    }
}

fn request_received_staff(lang: Language) -> Option<Text> {
    match lang {
        ChineseTraditional => t(
            "{tenant} 提出的新申請 {request_id}",
            "佇列中有一筆新的協助申請等待處理。

申請編號：{request_id}
租用戶：{tenant}
語言：{language}
服務：{services}

請在員工主控台中進行分類處理。
",
        ),
        ChineseSimplified => t(
            "{tenant} 提交的新申请 {request_id}",
            "队列中有一条新的协助申请等待处理。

申请编号：{request_id}
租户：{tenant}
语言：{language}
服务：{services}

请在员工控制台中进行分类处理。
",
        ),
        English => t(
            "New request {request_id} from {tenant}",
            "A new request for assistance is waiting in the queue.

Request: {request_id}
Tenant: {tenant}
Language: {language}
Services: {services}

Please triage it in the staff console.
",
        ),
        French => t(
            "Nouvelle demande {request_id} de {tenant}",
            "Une nouvelle demande d'assistance attend dans la file.

Demande : {request_id}
Locataire : {tenant}
Langue : {language}
Services : {services}

Merci de la trier dans la console de l'équipe.
",
        ),
        German => t(
            "Neue Anfrage {request_id} von {tenant}",
            "Eine neue Anfrage auf Unterstützung wartet in der Warteschlange.

Anfrage: {request_id}
Mandant: {tenant}
Sprache: {language}
Dienste: {services}

Bitte sichten Sie sie in der Mitarbeiterkonsole.
",
        ),
        Italian => t(
            "Nuova richiesta {request_id} da {tenant}",
            "Una nuova richiesta di assistenza è in attesa nella coda.

Richiesta: {request_id}
Tenant: {tenant}
Lingua: {language}
Servizi: {services}

Si prega di valutarla nella console del personale.
",
        ),
        Japanese => t(
            "{tenant} からの新しいリクエスト {request_id}",
            "新しい支援リクエストがキューで対応を待っています。

リクエスト番号: {request_id}
テナント: {tenant}
言語: {language}
サービス: {services}

スタッフ コンソールで振り分けを行ってください。
",
        ),
        Korean => t(
            "{tenant}의 새 요청 {request_id}",
            "새 지원 요청이 대기열에서 처리를 기다리고 있습니다.

요청 번호: {request_id}
테넌트: {tenant}
언어: {language}
서비스: {services}

직원 콘솔에서 요청을 분류해 주세요.
",
        ),
        PortugueseBrazil => t(
            "Nova solicitação {request_id} de {tenant}",
            "Uma nova solicitação de assistência está aguardando na fila.

Solicitação: {request_id}
Locatário: {tenant}
Idioma: {language}
Serviços: {services}

Faça a triagem no console da equipe.
",
        ),
        Spanish => t(
            "Nueva solicitud {request_id} de {tenant}",
            "Hay una nueva solicitud de asistencia esperando en la cola.

Solicitud: {request_id}
Inquilino: {tenant}
Idioma: {language}
Servicios: {services}

Clasifíquela en la consola del personal.
",
        ),
        Thai => t(
            "คำขอใหม่ {request_id} จาก {tenant}",
            "มีคำขอความช่วยเหลือใหม่รอดำเนินการอยู่ในคิว

หมายเลขคำขอ: {request_id}
ผู้เช่า: {tenant}
ภาษา: {language}
บริการ: {services}

โปรดคัดกรองคำขอนี้ในคอนโซลเจ้าหน้าที่
",
        ),
        Vietnamese => t(
            "Yêu cầu mới {request_id} từ {tenant}",
            "Có một yêu cầu hỗ trợ mới đang chờ trong hàng đợi.

Mã yêu cầu: {request_id}
Đối tượng thuê: {tenant}
Ngôn ngữ: {language}
Dịch vụ: {services}

Vui lòng phân loại yêu cầu này trong bảng điều khiển nhân viên.
",
        ),
    }
}

fn request_accepted(lang: Language) -> Option<Text> {
    match lang {
        ChineseTraditional => t(
            "您的 FastTrack 申請 {request_id} 已獲受理",
            "您好：

好消息！您為 {tenant} 提出的申請 {request_id} 已獲受理。
您的 FastTrack 經理 {manager_name} 將與您聯繫，安排第一次線上會議。

FastTrack 團隊 敬上
",
        ),
        ChineseSimplified => t(
            "您的 FastTrack 申请 {request_id} 已被受理",
            "您好：

好消息！您为 {tenant} 提交的申请 {request_id} 已被受理。
您的 FastTrack 经理 {manager_name} 将与您联系，安排第一次在线会议。

FastTrack 团队 敬上
",
        ),
        English => t(
            "Your FastTrack request {request_id} has been accepted",
            "Hello,

Good news: your request {request_id} for {tenant} has been accepted.
{manager_name}, your FastTrack Manager, will contact you to schedule the first online meeting.

Kind regards,
The FastTrack team
",
        ),
        French => t(
            "Votre demande FastTrack {request_id} a été acceptée",
            "Bonjour,

Bonne nouvelle : votre demande {request_id} pour {tenant} a été acceptée.
{manager_name}, votre responsable FastTrack, vous contactera pour planifier la première réunion en ligne.

Cordialement,
L'équipe FastTrack
",
        ),
        German => t(
            "Ihre FastTrack-Anfrage {request_id} wurde angenommen",
            "Guten Tag,

wir freuen uns, Ihnen mitzuteilen, dass Ihre Anfrage {request_id} für {tenant} angenommen wurde.
{manager_name}, Ihre Ansprechperson im FastTrack-Team, wird sich bei Ihnen melden, um das erste Online-Meeting zu vereinbaren.

Mit freundlichen Grüßen
Ihr FastTrack-Team
",
        ),
        Italian => t(
            "La sua richiesta FastTrack {request_id} è stata accettata",
            "Buongiorno,

siamo lieti di comunicarle che la sua richiesta {request_id} per {tenant} è stata accettata.
{manager_name}, responsabile FastTrack della sua richiesta, la contatterà per fissare il primo incontro online.

Cordiali saluti,
Il team FastTrack
",
        ),
        Japanese => t(
            "FastTrack リクエスト {request_id} が承認されました",
            "FastTrack をご利用いただき、ありがとうございます。

{tenant} に関するリクエスト {request_id} が承認されました。
担当の FastTrack マネージャー {manager_name} より、初回のオンライン会議の日程調整についてご連絡いたします。

FastTrack チーム
",
        ),
        Korean => t(
            "FastTrack 요청이 수락되었습니다 ({request_id})",
            "안녕하세요.

반가운 소식을 전해 드립니다. {tenant}에 대한 요청({request_id})이 수락되었습니다.
담당 FastTrack 매니저인 {manager_name} 님이 첫 온라인 회의 일정을 잡기 위해 연락드릴 예정입니다.

FastTrack 팀 드림
",
        ),
        PortugueseBrazil => t(
            "Sua solicitação do FastTrack {request_id} foi aceita",
            "Olá,

Boas notícias: sua solicitação {request_id} para {tenant} foi aceita.
{manager_name}, gerente do FastTrack responsável pela sua solicitação, entrará em contato para agendar a primeira reunião online.

Atenciosamente,
Equipe FastTrack
",
        ),
        Spanish => t(
            "Su solicitud de FastTrack {request_id} ha sido aceptada",
            "Hola:

Nos complace informarle de que su solicitud {request_id} para {tenant} ha sido aceptada.
{manager_name}, responsable de FastTrack de su solicitud, se pondrá en contacto con usted para programar la primera reunión en línea.

Atentamente,
El equipo de FastTrack
",
        ),
        Thai => t(
            "คำขอ FastTrack ของคุณได้รับการตอบรับแล้ว ({request_id})",
            "เรียน ผู้ใช้บริการ

ขอแจ้งข่าวดีว่าคำขอ {request_id} สำหรับ {tenant} ของคุณได้รับการตอบรับแล้ว
{manager_name} ผู้จัดการ FastTrack ที่ดูแลคำขอของคุณ จะติดต่อคุณเพื่อนัดหมายการประชุมออนไลน์ครั้งแรก

ขอแสดงความนับถือ
ทีม FastTrack
",
        ),
        Vietnamese => t(
            "Yêu cầu FastTrack {request_id} của bạn đã được chấp nhận",
            "Xin chào,

Chúng tôi vui mừng thông báo yêu cầu {request_id} cho {tenant} của bạn đã được chấp nhận.
{manager_name}, quản lý FastTrack phụ trách yêu cầu của bạn, sẽ liên hệ với bạn để lên lịch buổi họp trực tuyến đầu tiên.

Trân trọng,
Nhóm FastTrack
",
        ),
    }
}

fn request_declined(lang: Language) -> Option<Text> {
    match lang {
        ChineseTraditional => t(
            "您的 FastTrack 申請 {request_id} 未能受理",
            "您好：

很抱歉，您為 {tenant} 提出的申請 {request_id} 未能受理。

原因：{reason}

如果您的情況有所變化，歡迎重新提出申請。

FastTrack 團隊 敬上
",
        ),
        ChineseSimplified => t(
            "您的 FastTrack 申请 {request_id} 未能受理",
            "您好：

很抱歉，您为 {tenant} 提交的申请 {request_id} 未能受理。

原因：{reason}

如果您的情况有变化，欢迎重新提交申请。

FastTrack 团队 敬上
",
        ),
        English => t(
            "Your FastTrack request {request_id} could not be accepted",
            "Hello,

We are sorry, but your request {request_id} for {tenant} could not be accepted.

Reason: {reason}

If your situation changes, you are welcome to submit a new request.

Kind regards,
The FastTrack team
",
        ),
        French => t(
            "Votre demande FastTrack {request_id} n'a pas pu être acceptée",
            "Bonjour,

Nous sommes désolés, mais votre demande {request_id} pour {tenant} n'a pas pu être acceptée.

Motif : {reason}

Si votre situation évolue, n'hésitez pas à soumettre une nouvelle demande.

Cordialement,
L'équipe FastTrack
",
        ),
        German => t(
            "Ihre FastTrack-Anfrage {request_id} konnte nicht angenommen werden",
            "Guten Tag,

leider konnte Ihre Anfrage {request_id} für {tenant} nicht angenommen werden.

Begründung: {reason}

Wenn sich Ihre Situation ändert, können Sie gern eine neue Anfrage stellen.

Mit freundlichen Grüßen
Ihr FastTrack-Team
",
        ),
        Italian => t(
            "Non è stato possibile accettare la sua richiesta FastTrack {request_id}",
            "Buongiorno,

ci dispiace, ma non è stato possibile accettare la sua richiesta {request_id} per {tenant}.

Motivo: {reason}

Se la sua situazione dovesse cambiare, potrà inviare una nuova richiesta in qualsiasi momento.

Cordiali saluti,
Il team FastTrack
",
        ),
        Japanese => t(
            "FastTrack リクエスト {request_id} をお受けできませんでした",
            "FastTrack をご利用いただき、ありがとうございます。

誠に申し訳ございませんが、{tenant} に関するリクエスト {request_id} はお受けできませんでした。

理由: {reason}

状況が変わりましたら、改めてリクエストをお送りください。

FastTrack チーム
",
        ),
        Korean => t(
            "FastTrack 요청을 수락할 수 없습니다 ({request_id})",
            "안녕하세요.

죄송하지만 {tenant}에 대한 요청({request_id})을 수락할 수 없습니다.

사유: {reason}

상황이 바뀌면 언제든지 새 요청을 제출해 주세요.

FastTrack 팀 드림
",
        ),
        PortugueseBrazil => t(
            "Não foi possível aceitar sua solicitação do FastTrack {request_id}",
            "Olá,

Lamentamos, mas não foi possível aceitar sua solicitação {request_id} para {tenant}.

Motivo: {reason}

Se sua situação mudar, fique à vontade para enviar uma nova solicitação.

Atenciosamente,
Equipe FastTrack
",
        ),
        Spanish => t(
            "No ha sido posible aceptar su solicitud de FastTrack {request_id}",
            "Hola:

Lo sentimos, pero no ha sido posible aceptar su solicitud {request_id} para {tenant}.

Motivo: {reason}

Si su situación cambia, puede enviar una nueva solicitud en cualquier momento.

Atentamente,
El equipo de FastTrack
",
        ),
        Thai => t(
            "ไม่สามารถตอบรับคำขอ FastTrack ของคุณได้ ({request_id})",
            "เรียน ผู้ใช้บริการ

ขออภัย เราไม่สามารถตอบรับคำขอ {request_id} สำหรับ {tenant} ของคุณได้

เหตุผล: {reason}

หากสถานการณ์ของคุณเปลี่ยนแปลง คุณสามารถส่งคำขอใหม่ได้ทุกเมื่อ

ขอแสดงความนับถือ
ทีม FastTrack
",
        ),
        Vietnamese => t(
            "Không thể chấp nhận yêu cầu FastTrack {request_id} của bạn",
            "Xin chào,

Rất tiếc, chúng tôi không thể chấp nhận yêu cầu {request_id} cho {tenant} của bạn.

Lý do: {reason}

Nếu tình hình của bạn thay đổi, bạn có thể gửi một yêu cầu mới bất cứ lúc nào.

Trân trọng,
Nhóm FastTrack
",
        ),
    }
}

fn request_info_needed(lang: Language) -> Option<Text> {
    match lang {
        ChineseTraditional => t(
            "您的 FastTrack 申請 {request_id} 需要更多資訊",
            "您好：

為了繼續處理您為 {tenant} 提出的申請 {request_id}，我們需要您提供以下資訊：

{question}

收到您的回覆後，我們將立即繼續處理。

FastTrack 團隊 敬上
",
        ),
        ChineseSimplified => t(
            "您的 FastTrack 申请 {request_id} 需要更多信息",
            "您好：

为了继续处理您为 {tenant} 提交的申请 {request_id}，我们需要您提供以下信息：

{question}

收到您的回复后，我们将立即继续处理。

FastTrack 团队 敬上
",
        ),
        English => t(
            "More information needed for your FastTrack request {request_id}",
            "Hello,

To continue with your request {request_id} for {tenant}, we need some more information:

{question}

We will continue as soon as we hear from you.

Kind regards,
The FastTrack team
",
        ),
        French => t(
            "Informations complémentaires requises pour votre demande FastTrack {request_id}",
            "Bonjour,

Pour poursuivre le traitement de votre demande {request_id} pour {tenant}, nous avons besoin d'informations complémentaires :

{question}

Nous reprendrons le traitement dès réception de votre réponse.

Cordialement,
L'équipe FastTrack
",
        ),
        German => t(
            "Weitere Informationen zu Ihrer FastTrack-Anfrage {request_id} benötigt",
            "Guten Tag,

um Ihre Anfrage {request_id} für {tenant} weiter bearbeiten zu können, benötigen wir noch folgende Informationen:

{question}

Sobald uns Ihre Antwort vorliegt, setzen wir die Bearbeitung fort.

Mit freundlichen Grüßen
Ihr FastTrack-Team
",
        ),
        Italian => t(
            "Servono ulteriori informazioni per la sua richiesta FastTrack {request_id}",
            "Buongiorno,

per proseguire con la sua richiesta {request_id} per {tenant} abbiamo bisogno di alcune informazioni aggiuntive:

{question}

Riprenderemo la lavorazione non appena riceveremo la sua risposta.

Cordiali saluti,
Il team FastTrack
",
        ),
        Japanese => t(
            "FastTrack リクエスト {request_id} について追加情報のお願い",
            "FastTrack をご利用いただき、ありがとうございます。

{tenant} に関するリクエスト {request_id} の対応を進めるため、以下の追加情報をお知らせください。

{question}

ご回答をいただき次第、対応を再開いたします。

FastTrack チーム
",
        ),
        Korean => t(
            "FastTrack 요청에 대한 추가 정보가 필요합니다 ({request_id})",
            "안녕하세요.

{tenant}에 대한 요청({request_id})을 계속 진행하려면 다음 추가 정보가 필요합니다.

{question}

회신을 받는 대로 바로 진행하겠습니다.

FastTrack 팀 드림
",
        ),
        PortugueseBrazil => t(
            "Precisamos de mais informações sobre sua solicitação do FastTrack {request_id}",
            "Olá,

Para dar continuidade à sua solicitação {request_id} para {tenant}, precisamos de mais algumas informações:

{question}

Daremos continuidade assim que recebermos sua resposta.

Atenciosamente,
Equipe FastTrack
",
        ),
        Spanish => t(
            "Necesitamos más información sobre su solicitud de FastTrack {request_id}",
            "Hola:

Para continuar con su solicitud {request_id} para {tenant}, necesitamos algo más de información:

{question}

Seguiremos adelante en cuanto recibamos su respuesta.

Atentamente,
El equipo de FastTrack
",
        ),
        Thai => t(
            "ต้องการข้อมูลเพิ่มเติมสำหรับคำขอ FastTrack ของคุณ ({request_id})",
            "เรียน ผู้ใช้บริการ

เพื่อดำเนินการกับคำขอ {request_id} สำหรับ {tenant} ต่อไป เราต้องการข้อมูลเพิ่มเติมดังนี้

{question}

เราจะดำเนินการต่อทันทีที่ได้รับคำตอบจากคุณ

ขอแสดงความนับถือ
ทีม FastTrack
",
        ),
        Vietnamese => t(
            "Cần thêm thông tin cho yêu cầu FastTrack {request_id} của bạn",
            "Xin chào,

Để tiếp tục xử lý yêu cầu {request_id} cho {tenant}, chúng tôi cần thêm một số thông tin sau:

{question}

Chúng tôi sẽ tiếp tục ngay khi nhận được phản hồi của bạn.

Trân trọng,
Nhóm FastTrack
",
        ),
    }
}

fn relationship_expiry_warning(lang: Language) -> Option<Text> {
    match lang {
        ChineseTraditional => t(
            "{partner} 與 {customer} 的合作夥伴關係將於 {days}後到期",
            "您好：

{partner} 與 {customer} 之間的合作夥伴關係將於 {days}後（{expires_at}）到期。

到期後，{partner} 將無法再檢視 {customer} 的資料，也無法代其提出申請。如需繼續合作，合作夥伴可以申請延長，並由客戶核准。

FastTrack 團隊 敬上
",
        ),
        ChineseSimplified => t(
            "{partner} 与 {customer} 的合作伙伴关系将在 {days}后到期",
            "您好：

{partner} 与 {customer} 之间的合作伙伴关系将在 {days}后（{expires_at}）到期。

到期后，{partner} 将无法再查看 {customer} 的信息，也无法代其提交申请。如需继续合作，合作伙伴可以申请延期，并由客户批准。

FastTrack 团队 敬上
",
        ),
        English => t(
            "The partner relationship between {partner} and {customer} expires in {days}",
            "Hello,

The partner relationship between {partner} and {customer} expires on {expires_at}, in {days}.

After that, {partner} will no longer be able to view {customer} or file requests on its behalf. To keep working together, the partner can ask for an extension, which the customer then approves.

Kind regards,
The FastTrack team
",
        ),
        French => t(
            "La relation de partenariat entre {partner} et {customer} expire dans {days}",
            "Bonjour,

La relation de partenariat entre {partner} et {customer} expire le {expires_at}, soit dans {days}.

Passé cette date, {partner} ne pourra plus consulter {customer} ni déposer de demandes en son nom. Pour poursuivre la collaboration, le partenaire peut demander une prolongation, que le client devra approuver.

Cordialement,
L'équipe FastTrack
",
        ),
        German => t(
            "Die Partnerbeziehung zwischen {partner} und {customer} läuft in {days} ab",
            "Guten Tag,

die Partnerbeziehung zwischen {partner} und {customer} läuft am {expires_at} ab, also in {days}.

Danach kann {partner} die Daten von {customer} nicht mehr einsehen und keine Anfragen mehr in dessen Namen stellen. Um die Zusammenarbeit fortzusetzen, kann der Partner eine Verlängerung beantragen, die der Kunde genehmigen muss.

Mit freundlichen Grüßen
Ihr FastTrack-Team
",
        ),
        Italian => t(
            "La relazione di partnership tra {partner} e {customer} scade tra {days}",
            "Buongiorno,

la relazione di partnership tra {partner} e {customer} scade il {expires_at}, ovvero tra {days}.

Dopo tale data {partner} non potrà più visualizzare i dati di {customer} né inviare richieste per suo conto. Per continuare la collaborazione, il partner può chiedere una proroga, che il cliente dovrà approvare.

Cordiali saluti,
Il team FastTrack
",
        ),
        Japanese => t(
            "{partner} と {customer} のパートナー関係は {days}後に期限切れになります",
            "FastTrack をご利用いただき、ありがとうございます。

{partner} と {customer} のパートナー関係は、{days}後の {expires_at} に期限切れになります。

期限が過ぎると、{partner} は {customer} の情報を閲覧したり、{customer} に代わってリクエストを提出したりできなくなります。引き続き連携する場合は、パートナーが延長を申請し、お客様が承認してください。

FastTrack チーム
",
        ),
        Korean => t(
            "파트너 관계({partner} - {customer})가 {days} 후에 만료됩니다",
            "안녕하세요.

파트너 {partner} 및 고객 {customer} 간의 파트너 관계가 {days} 후인 {expires_at}에 만료됩니다.

만료 후에는 파트너가 {customer}의 정보를 조회하거나 고객을 대신하여 요청을 제출할 수 없습니다. 협력을 계속하려면 파트너가 연장을 요청하고 고객이 이를 승인해야 합니다.

FastTrack 팀 드림
",
        ),
        PortugueseBrazil => t(
            "O relacionamento de parceria entre {partner} e {customer} expira em {days}",
            "Olá,

O relacionamento de parceria entre {partner} e {customer} expira em {expires_at}, daqui a {days}.

Após essa data, {partner} não poderá mais visualizar os dados de {customer} nem enviar solicitações em seu nome. Para continuar trabalhando em conjunto, o parceiro pode solicitar uma prorrogação, que deverá ser aprovada pelo cliente.

Atenciosamente,
Equipe FastTrack
",
        ),
        Spanish => t(
            "La relación entre {partner} y {customer} vence en {days}",
            "Hola:

La relación entre el asociado {partner} y el cliente {customer} vence el {expires_at}, dentro de {days}.

A partir de esa fecha, {partner} ya no podrá ver los datos de {customer} ni enviar solicitudes en su nombre. Para seguir colaborando, el asociado puede solicitar una prórroga, que el cliente deberá aprobar.

Atentamente,
El equipo de FastTrack
",
        ),
        Thai => t(
            "ความสัมพันธ์พาร์ทเนอร์ระหว่าง {partner} และ {customer} จะหมดอายุในอีก {days}",
            "เรียน ผู้ใช้บริการ

ความสัมพันธ์พาร์ทเนอร์ระหว่าง {partner} และ {customer} จะหมดอายุในอีก {days} คือวันที่ {expires_at}

หลังจากนั้น {partner} จะไม่สามารถดูข้อมูลของ {customer} หรือส่งคำขอในนามของ {customer} ได้อีก หากต้องการทำงานร่วมกันต่อ พาร์ทเนอร์สามารถขอขยายระยะเวลา โดยลูกค้าต้องเป็นผู้อนุมัติ

ขอแสดงความนับถือ
ทีม FastTrack
",
        ),
        Vietnamese => t(
            "Quan hệ đối tác giữa {partner} và {customer} sẽ hết hạn sau {days}",
            "Xin chào,

Quan hệ đối tác giữa {partner} và {customer} sẽ hết hạn sau {days}, vào {expires_at}.

Sau thời điểm này, {partner} sẽ không thể xem thông tin của {customer} hoặc gửi yêu cầu thay mặt {customer} nữa. Để tiếp tục hợp tác, đối tác có thể yêu cầu gia hạn và khách hàng cần phê duyệt.

Trân trọng,
Nhóm FastTrack
",
        ),
    }
}

fn meeting_invite(lang: Language) -> Option<Text> {
    match lang {
        ChineseTraditional => t(
            "會議邀請：{purpose}－FastTrack 申請 {request_id}",
            "您好：

誠摯邀請您參加 {tenant} 的 FastTrack 線上會議。

主題：{purpose}
時間：{start_local}–{end_local}（{time_zone}）
主持人：{staff_name}
線上參加：{online_link}
申請編號：{request_id}

會議邀請已附於本郵件，將其加入行事曆即可接受邀請。

FastTrack 團隊 敬上
",
        ),
        ChineseSimplified => t(
            "会议邀请：{purpose} - FastTrack 申请 {request_id}",
            "您好：

诚挚邀请您参加 {tenant} 的 FastTrack 在线会议。

主题：{purpose}
时间：{start_local}–{end_local}（{time_zone}）
主持人：{staff_name}
在线参加：{online_link}
申请编号：{request_id}

会议邀请已附在本邮件中，将其添加到日历即可接受邀请。

FastTrack 团队 敬上
",
        ),
        English => t(
            "Invitation: {purpose} – FastTrack request {request_id}",
            "Hello,

You are invited to an online FastTrack meeting for {tenant}.

Topic: {purpose}
When: {start_local}–{end_local} ({time_zone})
Host: {staff_name}
Join online: {online_link}
Request: {request_id}

The invitation is attached: add it to your calendar to accept it.

Kind regards,
The FastTrack team
",
        ),
        French => t(
            "Invitation : {purpose} – demande FastTrack {request_id}",
            "Bonjour,

Nous vous invitons à une réunion en ligne FastTrack pour {tenant}.

Objet : {purpose}
Date et heure : {start_local}–{end_local} ({time_zone})
Animée par : {staff_name}
Rejoindre en ligne : {online_link}
Demande : {request_id}

L'invitation est jointe : ajoutez-la à votre agenda pour l'accepter.

Cordialement,
L'équipe FastTrack
",
        ),
        German => t(
            "Einladung: {purpose} – FastTrack-Anfrage {request_id}",
            "Guten Tag,

wir laden Sie zu einem FastTrack-Online-Meeting für {tenant} ein.

Thema: {purpose}
Zeit: {start_local}–{end_local} Uhr ({time_zone})
Leitung: {staff_name}
Online teilnehmen: {online_link}
Anfrage: {request_id}

Die Einladung ist angehängt: Fügen Sie sie Ihrem Kalender hinzu, um sie anzunehmen.

Mit freundlichen Grüßen
Ihr FastTrack-Team
",
        ),
        Italian => t(
            "Invito: {purpose} – richiesta FastTrack {request_id}",
            "Buongiorno,

la invitiamo a un incontro online FastTrack per {tenant}.

Argomento: {purpose}
Quando: {start_local}–{end_local} ({time_zone})
A cura di: {staff_name}
Link per partecipare: {online_link}
Richiesta: {request_id}

L'invito è allegato: lo aggiunga al suo calendario per accettarlo.

Cordiali saluti,
Il team FastTrack
",
        ),
        Japanese => t(
            "会議のご案内: {purpose}（FastTrack リクエスト {request_id}）",
            "FastTrack をご利用いただき、ありがとうございます。

{tenant} 向けの FastTrack オンライン会議にご招待いたします。

議題: {purpose}
日時: {start_local}～{end_local}（{time_zone}）
担当者: {staff_name}
オンライン参加: {online_link}
リクエスト番号: {request_id}

会議の招待状を添付しております。カレンダーに追加して出席をご登録ください。

FastTrack チーム
",
        ),
        Korean => t(
            "회의 초대: {purpose} - FastTrack 요청 {request_id}",
            "안녕하세요.

{tenant}의 FastTrack 온라인 회의에 초대합니다.

주제: {purpose}
일시: {start_local}~{end_local}({time_zone})
진행자: {staff_name}
온라인 참가: {online_link}
요청 번호: {request_id}

회의 초대장이 첨부되어 있습니다. 캘린더에 추가하여 참석을 수락해 주세요.

FastTrack 팀 드림
",
        ),
        PortugueseBrazil => t(
            "Convite: {purpose} – solicitação do FastTrack {request_id}",
            "Olá,

Convidamos você para uma reunião online do FastTrack para {tenant}.

Assunto: {purpose}
Quando: {start_local}–{end_local} ({time_zone})
Conduzida por: {staff_name}
Participar online: {online_link}
Solicitação: {request_id}

O convite está anexado: adicione-o ao seu calendário para aceitá-lo.

Atenciosamente,
Equipe FastTrack
",
        ),
        Spanish => t(
            "Invitación: {purpose} – solicitud de FastTrack {request_id}",
            "Hola:

Le invitamos a una reunión en línea de FastTrack para {tenant}.

Asunto: {purpose}
Cuándo: {start_local}–{end_local} ({time_zone})
Dirigida por: {staff_name}
Unirse en línea: {online_link}
Solicitud: {request_id}

La invitación va adjunta: añádala a su calendario para aceptarla.

Atentamente,
El equipo de FastTrack
",
        ),
        Thai => t(
            "คำเชิญประชุม: {purpose} - คำขอ FastTrack {request_id}",
            "เรียน ผู้ใช้บริการ

ขอเรียนเชิญเข้าร่วมการประชุมออนไลน์ FastTrack สำหรับ {tenant}

หัวข้อ: {purpose}
วันและเวลา: {start_local}–{end_local} ({time_zone})
ผู้ดำเนินการประชุม: {staff_name}
เข้าร่วมออนไลน์: {online_link}
หมายเลขคำขอ: {request_id}

คำเชิญประชุมแนบมากับอีเมลนี้ โปรดเพิ่มลงในปฏิทินของคุณเพื่อตอบรับ

ขอแสดงความนับถือ
ทีม FastTrack
",
        ),
        Vietnamese => t(
            "Lời mời họp: {purpose} – yêu cầu FastTrack {request_id}",
            "Xin chào,

Chúng tôi trân trọng mời bạn tham dự cuộc họp trực tuyến FastTrack cho {tenant}.

Chủ đề: {purpose}
Thời gian: {start_local}–{end_local} ({time_zone})
Người chủ trì: {staff_name}
Tham gia trực tuyến: {online_link}
Mã yêu cầu: {request_id}

Lời mời họp được đính kèm trong email này; hãy thêm vào lịch của bạn để chấp nhận.

Trân trọng,
Nhóm FastTrack
",
        ),
    }
}

fn meeting_cancelled(lang: Language) -> Option<Text> {
    match lang {
        ChineseTraditional => t(
            "會議已取消：{purpose}－FastTrack 申請 {request_id}",
            "您好：

{tenant} 的 FastTrack 線上會議已取消。

主題：{purpose}
原定時間：{start_local}–{end_local}（{time_zone}）
原因：{cancel_reason}
申請編號：{request_id}

隨附的取消通知會將此會議從您的行事曆中移除。如有需要，我們將另行提出新的時間。

FastTrack 團隊 敬上
",
        ),
        ChineseSimplified => t(
            "会议已取消：{purpose} - FastTrack 申请 {request_id}",
            "您好：

{tenant} 的 FastTrack 在线会议已取消。

主题：{purpose}
原定时间：{start_local}–{end_local}（{time_zone}）
原因：{cancel_reason}
申请编号：{request_id}

随附的取消通知会将此会议从您的日历中移除。如有需要，我们将另行提出新的时间。

FastTrack 团队 敬上
",
        ),
        English => t(
            "Cancelled: {purpose} – FastTrack request {request_id}",
            "Hello,

The online FastTrack meeting for {tenant} has been cancelled.

Topic: {purpose}
Was planned for: {start_local}–{end_local} ({time_zone})
Reason: {cancel_reason}
Request: {request_id}

The attached cancellation removes it from your calendar. We will propose a new time if needed.

Kind regards,
The FastTrack team
",
        ),
        French => t(
            "Annulée : {purpose} – demande FastTrack {request_id}",
            "Bonjour,

La réunion en ligne FastTrack pour {tenant} a été annulée.

Objet : {purpose}
Prévue le : {start_local}–{end_local} ({time_zone})
Motif : {cancel_reason}
Demande : {request_id}

L'annulation jointe retire la réunion de votre agenda. Nous vous proposerons un nouveau créneau si nécessaire.

Cordialement,
L'équipe FastTrack
",
        ),
        German => t(
            "Abgesagt: {purpose} – FastTrack-Anfrage {request_id}",
            "Guten Tag,

das FastTrack-Online-Meeting für {tenant} wurde abgesagt.

Thema: {purpose}
Geplant war: {start_local}–{end_local} Uhr ({time_zone})
Grund: {cancel_reason}
Anfrage: {request_id}

Die angehängte Absage entfernt den Termin aus Ihrem Kalender. Bei Bedarf schlagen wir Ihnen einen neuen Termin vor.

Mit freundlichen Grüßen
Ihr FastTrack-Team
",
        ),
        Italian => t(
            "Annullato: {purpose} – richiesta FastTrack {request_id}",
            "Buongiorno,

l'incontro online FastTrack per {tenant} è stato annullato.

Argomento: {purpose}
Previsto per: {start_local}–{end_local} ({time_zone})
Motivo: {cancel_reason}
Richiesta: {request_id}

L'annullamento allegato rimuove l'incontro dal suo calendario. Se necessario, le proporremo una nuova data.

Cordiali saluti,
Il team FastTrack
",
        ),
        Japanese => t(
            "会議中止のお知らせ: {purpose}（FastTrack リクエスト {request_id}）",
            "FastTrack をご利用いただき、ありがとうございます。

{tenant} 向けの FastTrack オンライン会議は中止となりました。

議題: {purpose}
予定日時: {start_local}～{end_local}（{time_zone}）
理由: {cancel_reason}
リクエスト番号: {request_id}

添付の取り消し通知により、カレンダーから会議が削除されます。必要に応じて、改めて日程をご提案いたします。

FastTrack チーム
",
        ),
        Korean => t(
            "회의 취소: {purpose} - FastTrack 요청 {request_id}",
            "안녕하세요.

{tenant}의 FastTrack 온라인 회의가 취소되었습니다.

주제: {purpose}
예정 일시: {start_local}~{end_local}({time_zone})
사유: {cancel_reason}
요청 번호: {request_id}

첨부된 취소 알림을 통해 캘린더에서 회의가 삭제됩니다. 필요한 경우 새 일정을 제안해 드리겠습니다.

FastTrack 팀 드림
",
        ),
        PortugueseBrazil => t(
            "Cancelada: {purpose} – solicitação do FastTrack {request_id}",
            "Olá,

A reunião online do FastTrack para {tenant} foi cancelada.

Assunto: {purpose}
Prevista para: {start_local}–{end_local} ({time_zone})
Motivo: {cancel_reason}
Solicitação: {request_id}

O cancelamento anexado remove a reunião do seu calendário. Se necessário, proporemos um novo horário.

Atenciosamente,
Equipe FastTrack
",
        ),
        Spanish => t(
            "Cancelada: {purpose} – solicitud de FastTrack {request_id}",
            "Hola:

La reunión en línea de FastTrack para {tenant} se ha cancelado.

Asunto: {purpose}
Prevista para: {start_local}–{end_local} ({time_zone})
Motivo: {cancel_reason}
Solicitud: {request_id}

La cancelación adjunta elimina la reunión de su calendario. Si es necesario, le propondremos un nuevo horario.

Atentamente,
El equipo de FastTrack
",
        ),
        Thai => t(
            "ยกเลิกการประชุม: {purpose} - คำขอ FastTrack {request_id}",
            "เรียน ผู้ใช้บริการ

การประชุมออนไลน์ FastTrack สำหรับ {tenant} ถูกยกเลิกแล้ว

หัวข้อ: {purpose}
กำหนดการเดิม: {start_local}–{end_local} ({time_zone})
เหตุผล: {cancel_reason}
หมายเลขคำขอ: {request_id}

การแจ้งยกเลิกที่แนบมาจะนำการประชุมนี้ออกจากปฏิทินของคุณ หากจำเป็น เราจะเสนอเวลาใหม่ให้

ขอแสดงความนับถือ
ทีม FastTrack
",
        ),
        Vietnamese => t(
            "Đã hủy cuộc họp: {purpose} – yêu cầu FastTrack {request_id}",
            "Xin chào,

Cuộc họp trực tuyến FastTrack cho {tenant} đã bị hủy.

Chủ đề: {purpose}
Thời gian dự kiến: {start_local}–{end_local} ({time_zone})
Lý do: {cancel_reason}
Mã yêu cầu: {request_id}

Thông báo hủy đính kèm sẽ xóa cuộc họp khỏi lịch của bạn. Nếu cần, chúng tôi sẽ đề xuất thời gian mới.

Trân trọng,
Nhóm FastTrack
",
        ),
    }
}

fn meeting_reminder(lang: Language) -> Option<Text> {
    match lang {
        ChineseTraditional => t(
            "會議提醒：{purpose}－{start_local}",
            "您好：

提醒您，{tenant} 的 FastTrack 線上會議即將舉行。

主題：{purpose}
時間：{start_local}–{end_local}（{time_zone}）
主持人：{staff_name}
線上參加：{online_link}
申請編號：{request_id}

FastTrack 團隊 敬上
",
        ),
        ChineseSimplified => t(
            "会议提醒：{purpose} - {start_local}",
            "您好：

提醒您，{tenant} 的 FastTrack 在线会议即将举行。

主题：{purpose}
时间：{start_local}–{end_local}（{time_zone}）
主持人：{staff_name}
在线参加：{online_link}
申请编号：{request_id}

FastTrack 团队 敬上
",
        ),
        English => t(
            "Reminder: {purpose} – {start_local}",
            "Hello,

This is a reminder of your upcoming online FastTrack meeting for {tenant}.

Topic: {purpose}
When: {start_local}–{end_local} ({time_zone})
Host: {staff_name}
Join online: {online_link}
Request: {request_id}

Kind regards,
The FastTrack team
",
        ),
        French => t(
            "Rappel : {purpose} – {start_local}",
            "Bonjour,

Nous vous rappelons votre prochaine réunion en ligne FastTrack pour {tenant}.

Objet : {purpose}
Date et heure : {start_local}–{end_local} ({time_zone})
Animée par : {staff_name}
Rejoindre en ligne : {online_link}
Demande : {request_id}

Cordialement,
L'équipe FastTrack
",
        ),
        German => t(
            "Erinnerung: {purpose} – {start_local}",
            "Guten Tag,

wir erinnern Sie an Ihr bevorstehendes FastTrack-Online-Meeting für {tenant}.

Thema: {purpose}
Zeit: {start_local}–{end_local} Uhr ({time_zone})
Leitung: {staff_name}
Online teilnehmen: {online_link}
Anfrage: {request_id}

Mit freundlichen Grüßen
Ihr FastTrack-Team
",
        ),
        Italian => t(
            "Promemoria: {purpose} – {start_local}",
            "Buongiorno,

le ricordiamo il prossimo incontro online FastTrack per {tenant}.

Argomento: {purpose}
Quando: {start_local}–{end_local} ({time_zone})
A cura di: {staff_name}
Link per partecipare: {online_link}
Richiesta: {request_id}

Cordiali saluti,
Il team FastTrack
",
        ),
        Japanese => t(
            "会議のリマインダー: {purpose}（{start_local}）",
            "FastTrack をご利用いただき、ありがとうございます。

{tenant} 向けの FastTrack オンライン会議の日時が近づいてまいりましたので、お知らせいたします。

議題: {purpose}
日時: {start_local}～{end_local}（{time_zone}）
担当者: {staff_name}
オンライン参加: {online_link}
リクエスト番号: {request_id}

FastTrack チーム
",
        ),
        Korean => t(
            "회의 알림: {purpose} - {start_local}",
            "안녕하세요.

{tenant}의 FastTrack 온라인 회의가 곧 열릴 예정임을 알려 드립니다.

주제: {purpose}
일시: {start_local}~{end_local}({time_zone})
진행자: {staff_name}
온라인 참가: {online_link}
요청 번호: {request_id}

FastTrack 팀 드림
",
        ),
        PortugueseBrazil => t(
            "Lembrete: {purpose} – {start_local}",
            "Olá,

Este é um lembrete da sua próxima reunião online do FastTrack para {tenant}.

Assunto: {purpose}
Quando: {start_local}–{end_local} ({time_zone})
Conduzida por: {staff_name}
Participar online: {online_link}
Solicitação: {request_id}

Atenciosamente,
Equipe FastTrack
",
        ),
        Spanish => t(
            "Recordatorio: {purpose} – {start_local}",
            "Hola:

Le recordamos su próxima reunión en línea de FastTrack para {tenant}.

Asunto: {purpose}
Cuándo: {start_local}–{end_local} ({time_zone})
Dirigida por: {staff_name}
Unirse en línea: {online_link}
Solicitud: {request_id}

Atentamente,
El equipo de FastTrack
",
        ),
        Thai => t(
            "แจ้งเตือนการประชุม: {purpose} - {start_local}",
            "เรียน ผู้ใช้บริการ

ขอแจ้งเตือนการประชุมออนไลน์ FastTrack สำหรับ {tenant} ที่กำลังจะมาถึง

หัวข้อ: {purpose}
วันและเวลา: {start_local}–{end_local} ({time_zone})
ผู้ดำเนินการประชุม: {staff_name}
เข้าร่วมออนไลน์: {online_link}
หมายเลขคำขอ: {request_id}

ขอแสดงความนับถือ
ทีม FastTrack
",
        ),
        Vietnamese => t(
            "Nhắc lịch họp: {purpose} – {start_local}",
            "Xin chào,

Xin nhắc bạn về cuộc họp trực tuyến FastTrack sắp tới cho {tenant}.

Chủ đề: {purpose}
Thời gian: {start_local}–{end_local} ({time_zone})
Người chủ trì: {staff_name}
Tham gia trực tuyến: {online_link}
Mã yêu cầu: {request_id}

Trân trọng,
Nhóm FastTrack
",
        ),
    }
}

/// R15: a request's clock has run most of its target; its FastTrack Manager is told.
fn sla_near_breach(lang: Language) -> Option<Text> {
    match lang {
        ChineseTraditional => t(
            "申請 {request_id} 的服務等級即將逾期",
            "您好：

{tenant} 的申請 {request_id} 的{clock}計時即將達到服務等級目標：剩餘 {minutes_left} 個工作分鐘。

請盡快處理此申請，以免違反服務等級承諾。

FastTrack 系統
",
        ),
        ChineseSimplified => t(
            "申请 {request_id} 的服务级别即将超时",
            "您好：

{tenant} 的申请 {request_id} 的{clock}计时即将达到服务级别目标：还剩 {minutes_left} 个工作分钟。

请尽快处理此申请，以免违反服务级别承诺。

FastTrack 系统
",
        ),
        English => t(
            "Request {request_id} is close to its service-level target",
            "Hello,

The {clock} clock of request {request_id} for {tenant} is close to its service-level target: {minutes_left} business minutes are left.

Please act on the request soon so that the programme keeps its promise.

The FastTrack system
",
        ),
        French => t(
            "La demande {request_id} approche de son objectif de niveau de service",
            "Bonjour,

Le délai de {clock} de la demande {request_id} pour {tenant} approche de son objectif de niveau de service : il reste {minutes_left} minutes ouvrées.

Merci de traiter cette demande rapidement afin que le programme tienne son engagement.

Le système FastTrack
",
        ),
        German => t(
            "Anfrage {request_id} erreicht bald ihr Service-Level-Ziel",
            "Hallo,

Die Frist für {clock} der Anfrage {request_id} von {tenant} erreicht bald ihr Service-Level-Ziel: Es bleiben {minutes_left} Arbeitsminuten.

Bitte bearbeiten Sie die Anfrage zeitnah, damit das Programm sein Versprechen hält.

Das FastTrack-System
",
        ),
        Italian => t(
            "La richiesta {request_id} è vicina all'obiettivo di livello di servizio",
            "Buongiorno,

Il tempo di {clock} della richiesta {request_id} per {tenant} è vicino all'obiettivo di livello di servizio: restano {minutes_left} minuti lavorativi.

Vi preghiamo di occuparvi presto della richiesta, perché il programma mantenga il suo impegno.

Il sistema FastTrack
",
        ),
        Japanese => t(
            "申請 {request_id} のサービスレベル期限が近づいています",
            "お疲れさまです。

{tenant} の申請 {request_id} の{clock}までの時間が、サービスレベルの目標に近づいています。残りは営業時間で {minutes_left} 分です。

約束を守れるよう、早めに対応してください。

FastTrack システム
",
        ),
        Korean => t(
            "요청 {request_id}의 서비스 수준 목표 시간이 임박했습니다",
            "안녕하세요.

{tenant}의 요청 {request_id}에 대한 {clock} 시간이 서비스 수준 목표에 가까워졌습니다. 남은 시간은 업무 시간 기준 {minutes_left}분입니다.

약속을 지킬 수 있도록 요청을 빨리 처리해 주세요.

FastTrack 시스템
",
        ),
        PortugueseBrazil => t(
            "A solicitação {request_id} está perto da meta de nível de serviço",
            "Olá,

O prazo de {clock} da solicitação {request_id} de {tenant} está perto da meta de nível de serviço: restam {minutes_left} minutos úteis.

Trate a solicitação em breve para que o programa cumpra o que prometeu.

O sistema FastTrack
",
        ),
        Spanish => t(
            "La solicitud {request_id} está cerca de su objetivo de nivel de servicio",
            "Hola:

El plazo de {clock} de la solicitud {request_id} de {tenant} está cerca de su objetivo de nivel de servicio: quedan {minutes_left} minutos laborables.

Atienda la solicitud pronto para que el programa cumpla su compromiso.

El sistema FastTrack
",
        ),
        Thai => t(
            "คำขอ {request_id} ใกล้ถึงเป้าหมายระดับบริการแล้ว",
            "สวัสดีครับ/ค่ะ

เวลา{clock}ของคำขอ {request_id} ของ {tenant} ใกล้ถึงเป้าหมายระดับบริการแล้ว เหลืออีก {minutes_left} นาทีทำการ

โปรดดำเนินการกับคำขอนี้โดยเร็ว เพื่อให้โปรแกรมรักษาคำมั่นไว้ได้

ระบบ FastTrack
",
        ),
        Vietnamese => t(
            "Yêu cầu {request_id} sắp đến hạn mức dịch vụ",
            "Xin chào,

Thời hạn {clock} của yêu cầu {request_id} cho {tenant} sắp đến mục tiêu mức dịch vụ: còn {minutes_left} phút làm việc.

Vui lòng xử lý yêu cầu sớm để chương trình giữ đúng cam kết.

Hệ thống FastTrack
",
        ),
    }
}

/// Every channel a request can come in through (SPEC §3).
pub(super) const CHANNELS: [&str; 6] = [
    "admin_center_widget",
    "site_quick_action",
    "site_deployment_card",
    "site_services_list",
    "partner_portal",
    "api",
];

/// How a reader of `lang` is told which way a request came in (R8, R9).
pub(super) fn channel(code: &str, lang: Language) -> Option<&'static str> {
    let i = CHANNELS.iter().position(|c| *c == code)?;
    let names: [&str; 6] = match lang {
        ChineseTraditional => [
            "系統管理中心的「需要協助嗎？」按鈕",
            "FastTrack 網站「快速動作」中的「申請協助」",
            "FastTrack 網站上的服務部署卡片",
            "FastTrack 網站上的可用服務清單",
            "合作夥伴入口網站（我的客戶）",
            "FastTrack API",
        ],
        ChineseSimplified => [
            "管理中心的“需要帮助？”按钮",
            "FastTrack 网站“快速操作”中的“申请协助”",
            "FastTrack 网站上的服务部署卡片",
            "FastTrack 网站上的可用服务列表",
            "合作伙伴门户（我的客户）",
            "FastTrack API",
        ],
        English => [
            "the “Need help?” button in the admin center",
            "the “Request assistance” quick action on the FastTrack site",
            "a service's deployment card on the FastTrack site",
            "the list of available services on the FastTrack site",
            "the partner portal (My customers)",
            "the FastTrack API",
        ],
        French => [
            "le bouton « Besoin d'aide ? » du centre d'administration",
            "l'action rapide « Demander de l'assistance » du site FastTrack",
            "la fiche de déploiement d'un service sur le site FastTrack",
            "la liste des services disponibles sur le site FastTrack",
            "le portail partenaire (Mes clients)",
            "l'API FastTrack",
        ],
        German => [
            "die Schaltfläche „Benötigen Sie Hilfe?“ im Admin Center",
            "die Schnellaktion „Unterstützung anfordern“ auf der FastTrack-Website",
            "die Bereitstellungskarte eines Dienstes auf der FastTrack-Website",
            "die Liste der verfügbaren Dienste auf der FastTrack-Website",
            "das Partnerportal (Meine Kunden)",
            "die FastTrack-API",
        ],
        Italian => [
            "il pulsante «Serve aiuto?» del centro di amministrazione",
            "l'azione rapida «Richiedi assistenza» del sito FastTrack",
            "la scheda di distribuzione di un servizio sul sito FastTrack",
            "l'elenco dei servizi disponibili sul sito FastTrack",
            "il portale partner (I miei clienti)",
            "l'API di FastTrack",
        ],
        Japanese => [
            "管理センターの「ヘルプが必要ですか?」ボタン",
            "FastTrack サイトのクイック アクション「支援をリクエスト」",
            "FastTrack サイトのサービス展開カード",
            "FastTrack サイトの利用可能なサービス一覧",
            "パートナー ポータル（マイ カスタマー）",
            "FastTrack API",
        ],
        Korean => [
            "관리 센터의 '도움이 필요하신가요?' 버튼",
            "FastTrack 사이트의 빠른 작업 '지원 요청'",
            "FastTrack 사이트의 서비스 배포 카드",
            "FastTrack 사이트의 사용 가능한 서비스 목록",
            "파트너 포털(내 고객)",
            "FastTrack API",
        ],
        PortugueseBrazil => [
            "o botão “Precisa de ajuda?” do centro de administração",
            "a ação rápida “Solicitar assistência” do site do FastTrack",
            "o cartão de implantação de um serviço no site do FastTrack",
            "a lista de serviços disponíveis no site do FastTrack",
            "o portal do parceiro (Meus clientes)",
            "a API do FastTrack",
        ],
        Spanish => [
            "el botón «¿Necesita ayuda?» del centro de administración",
            "la acción rápida «Solicitar asistencia» del sitio de FastTrack",
            "la tarjeta de implementación de un servicio en el sitio de FastTrack",
            "la lista de servicios disponibles en el sitio de FastTrack",
            "el portal de asociados (Mis clientes)",
            "la API de FastTrack",
        ],
        Thai => [
            "ปุ่ม “ต้องการความช่วยเหลือใช่ไหม” ในศูนย์การจัดการ",
            "การดำเนินการด่วน “ขอความช่วยเหลือ” บนเว็บไซต์ FastTrack",
            "การ์ดการปรับใช้ของบริการบนเว็บไซต์ FastTrack",
            "รายการบริการที่พร้อมใช้งานบนเว็บไซต์ FastTrack",
            "พอร์ทัลพาร์ทเนอร์ (ลูกค้าของฉัน)",
            "FastTrack API",
        ],
        Vietnamese => [
            "nút “Bạn cần trợ giúp?” trong trung tâm quản trị",
            "thao tác nhanh “Yêu cầu hỗ trợ” trên trang web FastTrack",
            "thẻ triển khai của một dịch vụ trên trang web FastTrack",
            "danh sách dịch vụ khả dụng trên trang web FastTrack",
            "cổng thông tin đối tác (Khách hàng của tôi)",
            "API FastTrack",
        ],
    };
    names.get(i).copied()
}

/// The name of an R15 clock as `lang` reads it.
pub(super) fn clock(code: &str, lang: Language) -> Option<&'static str> {
    let names: [&str; 2] = match lang {
        ChineseTraditional => ["首次回應", "首次會議"],
        ChineseSimplified => ["首次响应", "首次会议"],
        English => ["first response", "first meeting"],
        French => ["première réponse", "première réunion"],
        German => ["die erste Antwort", "das erste Meeting"],
        Italian => ["prima risposta", "prima riunione"],
        Japanese => ["初回回答", "初回ミーティング"],
        Korean => ["첫 응답", "첫 회의"],
        PortugueseBrazil => ["primeira resposta", "primeira reunião"],
        Spanish => ["primera respuesta", "primera reunión"],
        Thai => ["ตอบกลับครั้งแรก", "ประชุมครั้งแรก"],
        Vietnamese => ["phản hồi đầu tiên", "cuộc họp đầu tiên"],
    };
    match code {
        "first_response" => Some(names[0]),
        "first_meeting" => Some(names[1]),
        _ => None,
    }
}

/// What separates the items of a list in `lang`.
pub(super) fn list_separator(lang: Language) -> &'static str {
    match lang {
        ChineseTraditional | ChineseSimplified | Japanese => "、",
        _ => ", ",
    }
}

/// "N days" in `lang`, in the form the templates' sentences need (German: dative after "in").
pub(super) fn days(n: i64, lang: Language) -> String {
    // CLDR: English, German, Italian, Spanish and Portuguese use the singular for 1 only;
    // French for 0 and 1; the Asian languages here have no plural.
    let one = match lang {
        French => n == 0 || n == 1,
        _ => n == 1,
    };
    match (lang, one) {
        (ChineseTraditional | ChineseSimplified, _) => format!("{n} 天"),
        (Japanese, _) => format!("{n} 日"),
        (Korean, _) => format!("{n}일"),
        (Thai, _) => format!("{n} วัน"),
        (Vietnamese, _) => format!("{n} ngày"),
        (English, true) => format!("{n} day"),
        (English, false) => format!("{n} days"),
        (French, true) => format!("{n} jour"),
        (French, false) => format!("{n} jours"),
        (German, true) => format!("{n} Tag"),
        (German, false) => format!("{n} Tagen"),
        (Italian, true) => format!("{n} giorno"),
        (Italian, false) => format!("{n} giorni"),
        (PortugueseBrazil, true) => format!("{n} dia"),
        (PortugueseBrazil, false) => format!("{n} dias"),
        (Spanish, true) => format!("{n} día"),
        (Spanish, false) => format!("{n} días"),
    }
}

/// A calendar date as a reader of `lang` writes it.
fn date(d: jiff::civil::Date, lang: Language) -> String {
    let (y, m, d) = (d.year(), d.month(), d.day());
    match lang {
        ChineseTraditional | ChineseSimplified | Japanese => format!("{y}年{m}月{d}日"),
        Korean => format!("{y}년 {m}월 {d}일"),
        // ISO 8601 reads the same on both sides of the Atlantic.
        English => format!("{y}-{m:02}-{d:02}"),
        German => format!("{d:02}.{m:02}.{y}"),
        French | Italian | PortugueseBrazil | Spanish | Thai | Vietnamese => {
            format!("{d:02}/{m:02}/{y}")
        }
    }
}

/// A time of day, 24-hour, as business mail writes it in every one of the 12 languages.
pub(super) fn time(dt: jiff::civil::DateTime) -> String {
    format!("{:02}:{:02}", dt.hour(), dt.minute())
}

/// A wall-clock date and time (its zone is named beside it by the template).
pub(super) fn date_time(dt: jiff::civil::DateTime, lang: Language) -> String {
    format!("{} {}", date(dt.date(), lang), time(dt))
}

/// An instant as a reader of `lang` writes a date and time, in UTC (an e-mail does not know
/// the reader's zone, so it says which one it uses).
pub(super) fn instant(t: jiff::Timestamp, lang: Language) -> String {
    let dt = jiff::tz::TimeZone::UTC.to_datetime(t);
    let (d, hm) = (date(dt.date(), lang), time(dt));
    match lang {
        ChineseTraditional => format!("UTC 時間 {d} {hm}"),
        ChineseSimplified => format!("UTC 时间 {d} {hm}"),
        Japanese => format!("{d} {hm} (UTC)"),
        Korean => format!("{d} {hm}(UTC)"),
        English => format!("{d} {hm} UTC"),
        German => format!("{d}, {hm} Uhr (UTC)"),
        French => format!("{d} à {hm} (UTC)"),
        Italian => format!("{d} alle {hm} (UTC)"),
        PortugueseBrazil => format!("{d} às {hm} (UTC)"),
        Spanish => format!("{d} a las {hm} (UTC)"),
        Thai => format!("{d} เวลา {hm} น. (UTC)"),
        Vietnamese => format!("{hm} (UTC) ngày {d}"),
    }
}
