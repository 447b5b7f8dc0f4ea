// A PDF with an AcroForm (a text field and a check box) made by pdf-lib,
// with xref streams as pdf-lib writes them by default.
'use strict';
const fs = require('fs');
const { PDFDocument, StandardFonts } = require('pdf-lib');

(async () => {
  const doc = await PDFDocument.create();
  const page = doc.addPage([595, 842]);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  page.drawText('Formulaire sceau / pdf-lib', { x: 50, y: 780, size: 18, font });
  const form = doc.getForm();
  const name = form.createTextField('nom');
  name.setText('Aminata Traoré');
  name.addToPage(page, { x: 50, y: 700, width: 300, height: 24 });
  const ok = form.createCheckBox('accord');
  ok.check();
  ok.addToPage(page, { x: 50, y: 660, width: 16, height: 16 });
  fs.writeFileSync(process.argv[2], await doc.save({ useObjectStreams: process.argv[3] === 'objstm' }));
})().catch((e) => { console.error(e); process.exit(1); });
