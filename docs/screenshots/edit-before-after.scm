; Makes docs/screenshots/edit-before.png and edit-after.png: a drawn landscape, an elliptical
; selection in its sky (dashed in the "before" picture only), and plug-in-imagegen-edit with the
; prompt "a red hot-air balloon". Run against the bundled emulator, the "after" shows the
; emulator's placeholder (a flat colour derived from the prompt) where a model would paint:
;
;   build/tests/emulator/imagegen-emulator --port 0     # prints listening on http://127.0.0.1:PORT
;   OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 OPENAI_API_KEY=emulator-key gimp-console-2.10 -i \
;     -b '(begin (load "docs/screenshots/edit-before-after.scm") (edit-before-after "docs/screenshots"))' \
;     -b '(gimp-quit 0)'

(define (landscape w h)
  (let* ((image (car (gimp-image-new w h RGB)))
         (layer (car (gimp-layer-new image w h RGB-IMAGE "photo" 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer image layer 0 0)
    (gimp-context-set-foreground '(70 130 200))         ; sky
    (gimp-context-set-background '(200 225 245))
    (gimp-drawable-edit-gradient-fill layer GRADIENT-LINEAR 0 FALSE 1 0 FALSE 0 0 0 (* h 0.7))
    (gimp-image-select-ellipse image CHANNEL-OP-REPLACE (- (* w 0.2)) (* h 0.55) (* w 0.9) (* h 0.8))
    (gimp-image-select-ellipse image CHANNEL-OP-ADD (* w 0.4) (* h 0.6) (* w 0.9) (* h 0.8))
    (gimp-context-set-foreground '(90 140 80))          ; hills
    (gimp-context-set-background '(40 90 45))
    (gimp-drawable-edit-gradient-fill layer GRADIENT-LINEAR 0 FALSE 1 0 FALSE 0 (* h 0.55) 0 h)
    (gimp-image-select-ellipse image CHANNEL-OP-REPLACE (* w 0.05) (* h 0.82) (* w 0.5) (* h 0.12))
    (gimp-context-set-foreground '(120 160 200))        ; a lake
    (gimp-context-set-background '(60 100 150))
    (gimp-drawable-edit-gradient-fill layer GRADIENT-LINEAR 0 FALSE 1 0 FALSE 0 (* h 0.82) 0 (* h 0.94))
    (gimp-selection-none image)
    (list image layer)))

(define (save-flat image path)
  (let* ((dup (car (gimp-image-duplicate image)))
         (flat (car (gimp-image-flatten dup))))
    (gimp-selection-none dup)
    (file-png-save2 RUN-NONINTERACTIVE dup flat path path 0 9 0 0 0 0 0 0 0)
    (gimp-image-delete dup)))

(define (edit-before-after dir)
  (let* ((made (landscape 768 512)) (image (car made)) (layer (cadr made)))
    (gimp-image-select-ellipse image CHANNEL-OP-REPLACE 470 70 170 210)
    ; "before": the selection drawn in as a dashed line, on a copy
    (let* ((dup (car (gimp-image-duplicate image)))
           (flat (car (gimp-image-flatten dup))))
      (gimp-context-set-foreground '(255 255 255))
      (gimp-context-set-stroke-method STROKE-LINE)
      (gimp-context-set-line-width 3)
      (gimp-context-set-line-dash-pattern 2 #(4 3))
      (gimp-drawable-edit-stroke-selection flat)
      (gimp-selection-none dup)
      (let ((path (string-append dir "/edit-before.png")))
        (file-png-save2 RUN-NONINTERACTIVE dup flat path path 0 9 0 0 0 0 0 0 0))
      (gimp-image-delete dup))
    (plug-in-imagegen-edit RUN-NONINTERACTIVE image layer
      "a red hot-air balloon" "gpt-image-1" 1 "" "" "" -1 4 "" "")
    (save-flat image (string-append dir "/edit-after.png"))))
